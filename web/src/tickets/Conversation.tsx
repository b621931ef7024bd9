import type { Comment, User } from "../api/types";
import { LockIcon } from "../components/icons";
import { Badge, cx } from "../components/ui";
import { formatDateTime, formatRelative } from "../lib/format";
import { CommentActions } from "./CommentActions";

interface Props {
  ticketId: string;
  comments: Comment[];
  meId: string;
  users?: Map<string, User> | undefined;
  requesterId: string;
  /** Staff see internal notes; the API never sends them to anyone else. */
  staffView: boolean;
}

function authorName(comment: Comment, props: Props): string {
  if (comment.author_id === props.meId) return "You";
  const user = props.users?.get(comment.author_id);
  if (user) return user.name;
  return comment.author_id === props.requesterId ? "Requester" : "Support team";
}

export function Conversation(props: Props) {
  const { comments } = props;
  if (!comments.length) return <p className="text-fg-muted">No messages yet.</p>;
  return (
    <ol className="space-y-3" aria-label="Conversation">
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
              <span className="font-semibold">{authorName(comment, props)}</span>
              {internal ? (
                <Badge tone="internal">
                  <LockIcon /> Internal note · not visible to the requester
                </Badge>
              ) : props.staffView ? (
                <Badge tone="info">Public reply</Badge>
              ) : null}
              <time dateTime={comment.created_at} title={formatDateTime(comment.created_at)} className={internal ? "" : "text-fg-muted"}>
                {formatRelative(comment.created_at)}
              </time>
              {comment.edited_at && !deleted ? <span className={internal ? "" : "text-fg-muted"}>(edited)</span> : null}
            </div>
            {deleted ? (
              <p className="italic">This message was deleted.</p>
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
