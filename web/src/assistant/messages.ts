/** What a person reads of a conversation: their messages and the assistant's answers;
 * the tools' answers and the assistant's tool-call turns without text are the model's
 * working, not the conversation. */
export function visibleMessages<M extends { role: string; content: string }>(messages: readonly M[]): M[] {
  return messages.filter((m) => m.role === "user" || (m.role === "assistant" && m.content.trim() !== ""));
}
