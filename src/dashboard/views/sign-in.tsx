import { Layout } from './layout';

/** The key goes in a password field of a POST form: never into a URL, a cookie or storage. */
export function SignInPage(props: { error?: string }) {
  return (
    <Layout title="Sign in">
      <form method="post" action="/dashboard/sign-in" class="sign-in">
        <p>Paste a tenant API key (<code>mwk_…</code>) once. It is checked and exchanged for a session of 12 hours; the key itself is not kept in the browser.</p>
        <label for="apiKey">API key</label>
        <input
          id="apiKey"
          name="apiKey"
          type="password"
          required
          autocomplete="off"
          spellcheck={false}
          aria-invalid={props.error ? 'true' : undefined}
          aria-describedby={props.error ? 'apiKey-error' : undefined}
        />
        {props.error ? (
          <p id="apiKey-error" class="field-error" role="alert">
            {props.error}
          </p>
        ) : null}
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
