import { useState } from "react";
import { Button, Card } from "../components/ui";
import { useTicketMail } from "./api";
import { OriginalView } from "./OriginalView";
import { t } from "../i18n";

/** On a ticket that came in by e-mail (staff): "Received by e-mail", and the original
 * message on demand. */
export function ReceivedByMail({ ticketId, channel }: { ticketId: string; channel: string }) {
  const [shown, setShown] = useState(false);
  const mail = useTicketMail(ticketId, channel === "email" && shown);
  if (channel !== "email") return null;
  const first = mail.data?.[0];
  return (
    <Card aria-labelledby="received-by-mail-heading">
      <h2 id="received-by-mail-heading" className="mb-2 font-semibold">
        {t("mail.received.heading")}
      </h2>
      <Button size="sm" onClick={() => setShown((v) => !v)} aria-expanded={shown}>
        {shown ? t("mail.received.hide") : t("mail.received.show")}
      </Button>
      {shown && first ? (
        <div className="mt-3">
          <OriginalView mailId={first.id} />
        </div>
      ) : null}
    </Card>
  );
}
