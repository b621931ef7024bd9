import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { isStaff } from "../lib/domain";
import { Spinner } from "../components/ui";

export function FullPageSpinner() {
  return (
    <div className="flex min-h-screen items-center justify-center bg-bg">
      <Spinner label="Loading" />
    </div>
  );
}

/** Screens for signed-in people; `staff` screens also need the agent role or above
 * (the API enforces the same: this only spares a person a screen full of 404s). */
export function RequireAuth({ children, staff = false }: { children: ReactNode; staff?: boolean }) {
  const { state } = useAuth();
  const location = useLocation();
  if (state.status === "loading") return <FullPageSpinner />;
  if (state.status === "signedOut") {
    // Back here after signing in, unless the person chose to leave.
    if (state.reason === "signout") return <Navigate to="/login" replace />;
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  if (staff && !isStaff(state.me.role)) return <Navigate to="/requests" replace />;
  return <>{children}</>;
}
