import type { Comment, Ticket, User } from "../api/types";
import { Avatar } from "../components/Avatar";
import { useMe } from "../auth/AuthProvider";
import { LockIcon } from "../components/icons";
import { Badge, Spinner, cx } from "../components/ui";
import { formatDateTime, formatRelative } from "../lib/format";
import { TypingIndicator, TypingReporter } from "../live/TypingIndicator";
import { CommentActions } from "./CommentActions";
import { Composer, ErrorAlert } from "./Composer";
import { useComments, useParticipants } from "./queries";
import { useMemo } from "react";
import { t } from "../i18n";

/** Who a message is from: a user (staff list them) or a ticket's participant (the portal). */
export interface PersonRef {
  name: string;
  avatar_url?: string | null | undefined;
}

interface Props {
  ticketId: string;
  comments: Comment[];
  meId: string;
  users?: Map<string, PersonRef> | undefined;
  requesterId: string;
  /** Staff see internal notes; the API never sends them to anyone else. */
  staffView: boolean;
  /** Edit and delete (false in a ticket link's session, which may only reply). */
  actions?: boolean;
}

function authorName(comment: Comment, props: Props): string {
  if (comment.author_id === props.meId) return t("tickets.conversation.you");
  const user = props.users?.get(comment.author_id);
  if (user) return user.name;
  return comment.author_id === props.requesterId ? t("tickets.conversation.requester") : t("tickets.conversation.supportTeam");
}

export function Conversation(props: Props) {
  const { comments } = props;
  if (!comments.length) return <p className="text-fg-muted">{t("tickets.conversation.none")}</p>;
  return (
    <ol className="space-y-3" aria-label={t("tickets.conversation.label")}>
      {comments.map((comment) => {
        const internal = comment.visibility === "internal";
        const deleted = comment.deleted_at !== null;
        return (
          <li
            key={comment.id}
            data-testid={internal ? "internal-note" : "public-reply"}
            className={cx(
              "rounded-lg border p-3",
              internal ? "border-l-4 border-internal-border bg-internal-bg text-internal-text" : "border-border bg-surface",
            )}
          >
            <div className="mb-1 flex flex-wrap items-center gap-2">
              <Avatar name={props.users?.get(comment.author_id)?.name || authorName(comment, props)} url={props.users?.get(comment.author_id)?.avatar_url ?? null} />
              <span className="font-semibold">{authorName(comment, props)}</span>
              {internal ? (
                <Badge tone="internal">
                  <LockIcon />
                  {t("tickets.conversation.internal")}
                </Badge>
              ) : props.staffView ? (
                <Badge tone="info">{t("tickets.conversation.public")}</Badge>
              ) : null}
              <time dateTime={comment.created_at} title={formatDateTime(comment.created_at)} className={internal ? "" : "text-fg-muted"}>
                {formatRelative(comment.created_at)}
              </time>
              {comment.edited_at && !deleted ? <span className={internal ? "" : "text-fg-muted"}>{t("tickets.conversation.edited")}</span> : null}
            </div>
            {deleted ? (
              <p className="italic">{t("tickets.conversation.deleted")}</p>
            ) : props.actions === false ? (
              <p className="whitespace-pre-wrap break-words">{comment.body}</p>
            ) : (
              <CommentActions ticketId={props.ticketId} comment={comment} internal={internal}>
                <p className="whitespace-pre-wrap break-words">{comment.body}</p>
              </CommentActions>
            )}
          </li>
        );
      })}
    </ol>
  );
}

/**
 * A ticket's conversation as both ticket pages show it: the messages (kept live by the
 * page's useLiveTicket), who is typing, and the composer. Staff see internal notes and may
 * write them; `canReply` false hides the composer (a cancelled request in the portal).
 */
export function TicketConversation({
  ticket,
  staff,
  users,
  canReply = true,
}: {
  ticket: Ticket;
  staff: boolean;
  users?: Map<string, User> | undefined;
  canReply?: boolean;
}) {
  const me = useMe();
  const comments = useComments(ticket.id);
  // The portal may not list users: the ticket's participants name the people in it.
  const participants = useParticipants(ticket.id, !staff && users === undefined);
  const people = useMemo(() => {
    if (users) return users;
    const found = new Map<string, PersonRef>((participants.data ?? []).filter((p) => p.name).map((p) => [p.user_id, p]));
    found.set(me.user.id, me.user);
    return found;
  }, [users, participants.data, me.user]);
  return (
    <>
      {comments.isPending ? <Spinner label={t("tickets.conversation.loading")} /> : null}
      {comments.isError ? <ErrorAlert error={comments.error} /> : null}
      {comments.data ? (
        <Conversation
          ticketId={ticket.id}
          comments={comments.data}
          meId={me.user.id}
          users={people}
          requesterId={ticket.requester_id}
          staffView={staff}
        />
      ) : null}
      <TypingIndicator ticketId={ticket.id} staff={staff} />
      {canReply ? (
        <TypingReporter ticketId={ticket.id} staff={staff}>
          <Composer ticketId={ticket.id} staff={staff} />
        </TypingReporter>
      ) : null}
    </>
  );
}
