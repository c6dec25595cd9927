// The huddle.v1 schema for the tests: one import point for the code the web
// client generates from proto/ (protoc-gen-es v2, `npm --prefix web run gen`),
// so the tests encode frames exactly as the browser does.
export {
  create,
  toBinary,
  fromBinary,
  ClientMessageSchema,
  ServerMessageSchema,
  ErrorCode,
  LeaveReason,
  SdpType,
} from "../../web/src/proto.ts";
export type {
  ClientMessage,
  ServerMessage,
  JoinReply,
  MediaState,
  Participant,
  Signal,
  IceServer,
} from "../../web/src/proto.ts";
// Chat types straight from the generated file (web/src/proto.ts may not re-export them).
export type { ChatMessage } from "../../web/src/gen/huddle/v1/chat_pb.ts";
// Shared documents and FrameChunk, likewise.
export { DocumentKind } from "../../web/src/gen/huddle/v1/notes_pb.ts";
export type { NotesUpdate, NotesAwareness, NotesVersion, NotesSnapshot } from "../../web/src/gen/huddle/v1/notes_pb.ts";
export type { FrameChunk } from "../../web/src/gen/huddle/v1/client_pb.ts";
