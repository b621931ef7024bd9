import type { ReactNode } from "react";
import { ThemeToggle } from "../app/ThemeToggle";

/** The product name and the theme switch, above every signed-out screen. */
export function AuthHeader() {
  return (
    <header className="flex items-center justify-between px-6 py-4">
      <span className="text-lg font-semibold text-fg">Servicedesk</span>
      <ThemeToggle />
    </header>
  );
}

/** The frame of the signed-out screens: a centred card with the product name. */
export function AuthLayout({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="flex min-h-screen flex-col bg-bg">
      <AuthHeader />
      <main id="main" className="flex flex-1 items-start justify-center px-4 pb-12 pt-8 sm:pt-16">
        <div className="w-full max-w-md rounded-lg border border-border bg-surface p-6 shadow-card sm:p-8">
          <h1 className="mb-6 text-xl font-semibold text-fg">{title}</h1>
          {children}
          {footer ? <div className="mt-6 border-t border-border pt-4 text-fg-muted">{footer}</div> : null}
        </div>
      </main>
    </div>
  );
}
