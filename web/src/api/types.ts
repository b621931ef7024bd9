import type { components } from "./schema";

type Schemas = components["schemas"];
export type Ticket = Schemas["TicketPublic"];
export type Comment = Schemas["CommentPublic"];
export type TicketEvent = Schemas["EventPublic"];
export type Category = Schemas["CategoryPublic"];
export type User = Schemas["UserPublic"];
export type Me = Schemas["MeResponse"];
export type Team = Schemas["TeamPublic"];
export type Attachment = Schemas["AttachmentPublic"];
export type AttachmentUpload = Schemas["AttachmentUpload"];
export type TicketSla = Schemas["TicketSlaPublic"];
export type SlaTarget = Schemas["TargetPublic"];
export type Participant = Schemas["ParticipantPublic"];
export type TokenResponse = Schemas["TokenResponse"];
export type TicketStatus = Ticket["status"];
export type Level = Ticket["priority"];
export type Role = Me["role"];
