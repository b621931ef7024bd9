import { isRouteErrorResponse, useRouteError } from "react-router";
import { describeError } from "../api/problem";

export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : describeError(error);
  return (
    <main id="main" className="mx-auto max-w-xl px-4 py-16 text-center">
      <h1 className="text-xl font-semibold text-fg">Something went wrong</h1>
      <p className="mt-2 text-fg-muted">{message}</p>
      <p className="mt-6">
        <a className="font-medium text-accent-text underline" href="/">
          Back to the start
        </a>
      </p>
    </main>
  );
}
