import { Layout } from './layout';

export function ErrorPage(props: { status: number; message: string; signedIn: boolean }) {
  return (
    <Layout title={props.status === 404 ? 'Not found' : props.status === 403 ? 'Refused' : 'Something went wrong'}>
      <p role="alert">{props.message}</p>
      <p>
        <a href={props.signedIn ? '/dashboard' : '/dashboard/sign-in'}>{props.signedIn ? 'Back to the watches' : 'Sign in'}</a>
      </p>
    </Layout>
  );
}
