import { useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { homeFor } from "../app/home";
import { Alert, Spinner } from "../components/ui";
import { t } from "../i18n";
import { AuthLayout } from "./AuthLayout";
import { useAuth } from "./AuthProvider";

/**
 * Where the API sends the browser back after the organisation's identity provider: the
 * fragment carries a one-time code (or why it failed), exchanged here for the session.
 * The fragment is wiped from the address at once (it never reaches a server or a Referer).
 */
export default function SsoLandingPage() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [failed, setFailed] = useState(false);
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    window.history.replaceState(null, "", window.location.pathname);
    const code = fragment.get("code");
    if (!code) {
      setFailed(true);
      return;
    }
    void (async () => {
      try {
        const answer = await ok(api.POST("/v1/auth/sso/exchange", { body: { code } }));
        const me = await signIn(answer);
        const back = answer.return_to;
        navigate(back?.startsWith("/") && !back.startsWith("//") ? back : homeFor(me.role), { replace: true });
      } catch {
        setFailed(true);
      }
    })();
  }, [navigate, signIn]);

  return (
    <AuthLayout title={t("login.ssoTitle")}>
      {failed ? (
        <div className="space-y-4">
          <Alert tone="danger">{t("login.ssoFailed")}</Alert>
          <p className="text-center">
            <Link className="text-accent-text underline" to="/login">
              {t("login.ssoBack")}
            </Link>
          </p>
        </div>
      ) : (
        <div className="py-6 text-center">
          <Spinner label={t("login.ssoWorking")} />
        </div>
      )}
    </AuthLayout>
  );
}
