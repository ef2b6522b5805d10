import type { Child } from 'hono/jsx';

/** The signed-in part of a page: which section is current, and the session's form token for the sign-out form. */
export type Session = { csrfToken: string; current: 'watches' | 'channels' | 'dead-letters' | null };

const SECTIONS = [
  { id: 'watches', href: '/dashboard', text: 'Watches' },
  { id: 'channels', href: '/dashboard/channels', text: 'Channels' },
  { id: 'dead-letters', href: '/dashboard/dead-letters', text: 'Dead letters' },
] as const;

/** Every dashboard page: no inline script or style (the CSP allows only this origin's files). */
export function Layout(props: { title: string; session?: Session; children?: Child; scripts?: string[]; styles?: string[] }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${props.title} · marginwatch`}</title>
        {(props.styles ?? []).map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        <link rel="stylesheet" href="/dashboard/dashboard.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">marginwatch</span>
          {props.session ? (
            <nav aria-label="Dashboard">
              <ul>
                {SECTIONS.map((section) => (
                  <li>
                    <a href={section.href} aria-current={props.session!.current === section.id ? 'page' : undefined}>
                      {section.text}
                    </a>
                  </li>
                ))}
              </ul>
              <form method="post" action="/dashboard/sign-out" class="sign-out">
                <input type="hidden" name="_csrf" value={props.session.csrfToken} />
                <button type="submit">Sign out</button>
              </form>
            </nav>
          ) : null}
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          {props.children}
        </main>
        {(props.scripts ?? []).map((src) => (
          <script src={src} defer></script>
        ))}
      </body>
    </html>
  );
}

/** A POST form with the session's form token; every state change goes through one. */
export function PostForm(props: { action: string; csrfToken: string; class?: string; children?: Child }) {
  return (
    <form method="post" action={props.action} class={props.class}>
      <input type="hidden" name="_csrf" value={props.csrfToken} />
      {props.children}
    </form>
  );
}

/** A status line for the result of the last action (from the redirect's query), announced to screen readers. */
export function Notice(props: { text: string | null; kind?: 'ok' | 'error' }) {
  if (!props.text) return null;
  return (
    <p class={`notice ${props.kind === 'error' ? 'notice-error' : 'notice-ok'}`} role="status">
      {props.text}
    </p>
  );
}

export function Time(props: { at: string | null; text: string }) {
  return props.at ? <time datetime={props.at} title={props.at}>{props.text}</time> : <span>{props.text}</span>;
}

/** A table's column headers; numeric columns are right-aligned. */
export function HeaderRow(props: { columns: Array<string | { text: string; numeric: true }> }) {
  return (
    <thead>
      <tr>
        {props.columns.map((column) =>
          typeof column === 'string' ? (
            <th scope="col">{column}</th>
          ) : (
            <th scope="col" class="num">
              {column.text}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
