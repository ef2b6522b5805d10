import type { TestProject } from 'vitest/node';
import { startDiscordStandIn } from '../helpers/discord-stand-in';
import { startNtfyStandIn } from '../helpers/ntfy-stand-in';
import { startPagerDutyStandIn } from '../helpers/pagerduty-stand-in';
import { startSlackStandIn } from '../helpers/slack-stand-in';
import type { ServiceStandIn } from '../helpers/service-stand-in';

declare module 'vitest' {
  export interface ProvidedContext {
    channelBindings: Record<string, string>;
  }
}

let standIns: ServiceStandIn[] = [];

/**
 * Runs in Node before the workerd tests: starts the Discord, Slack, ntfy and PagerDuty
 * stand-ins and points the worker at them. Discord, Slack and PagerDuty go through
 * CHANNEL_API_BASES (honoured only with ALLOW_PRIVATE_WEBHOOK_URLS=true, as in these tests);
 * ntfy channels name their server, so tests use TEST_NTFY_URL as the server.
 */
export default async function setup(project: TestProject) {
  const [discord, slack, ntfy, pagerduty] = await Promise.all([startDiscordStandIn(), startSlackStandIn(), startNtfyStandIn(), startPagerDutyStandIn()]);
  standIns = [discord, slack, ntfy, pagerduty];
  project.provide('channelBindings', {
    CHANNEL_API_BASES: JSON.stringify({ discord: discord.url, slack: slack.url, pagerduty: pagerduty.url }),
    TEST_DISCORD_URL: discord.url,
    TEST_SLACK_URL: slack.url,
    TEST_NTFY_URL: ntfy.url,
    TEST_PAGERDUTY_URL: pagerduty.url,
  });
  return async () => {
    await Promise.all(standIns.map((standIn) => standIn.stop()));
  };
}
