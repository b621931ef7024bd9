import { useState, type FormEvent } from "react";
import { useLocation, useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import { homeFor } from "../app/home";
import { Alert, Button } from "../components/ui";
import { t } from "../i18n";
import { AuthLayout } from "./AuthLayout";
import { useAuth } from "./AuthProvider";
import { tokenFrom } from "./linkToken";

/** The registration e-mail links to /register/confirm#token=… Confirming is a deliberate
 * click (a mail scanner that opens the link must not create the account). */
export default function ConfirmRegistrationPage() {
  const { signIn } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [token] = useState(() => tokenFrom(location.hash, location.search));
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const tokens = await ok(api.POST("/v1/signup/requester/confirm", { body: { token } }));
      const me = await signIn(tokens);
      navigate(homeFor(me.role), { replace: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) setFailure(t("register.invalid"));
      else if (error instanceof ApiError && error.status === 409) setFailure(t("register.already"));
      else if (error instanceof ApiError && error.status === 403) setFailure(t("register.closed"));
      else setFailure(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  if (!token) {
    return (
      <AuthLayout title={t("register.confirmTitle")}>
        <Alert tone="warning" title={t("register.incomplete")}>
          {t("register.incompleteHelp")}
        </Alert>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title={t("register.confirmTitle")}>
      <p className="mb-4 text-fg-muted">{t("register.confirmIntro")}</p>
      <form className="space-y-4" onSubmit={submit} noValidate>
        {failure ? <Alert tone="danger">{failure}</Alert> : null}
        <Button type="submit" variant="primary" className="w-full" busy={busy}>
          {t("register.confirm")}
        </Button>
      </form>
    </AuthLayout>
  );
}
