// One import for everything protobuf: the runtime helpers and every generated
// schema of proto/huddle/v1 (src/gen is produced by `npm run gen`). The browser
// tests import this module too (tests/lib via tsx), so both speak the same schema.
export { create, toBinary, fromBinary } from "@bufbuild/protobuf";
export * from "./gen/huddle/v1/common_pb";
export * from "./gen/huddle/v1/chat_pb";
export * from "./gen/huddle/v1/client_pb";
export * from "./gen/huddle/v1/notes_pb";
export * from "./gen/huddle/v1/events_pb";
export * from "./gen/huddle/v1/recording_pb";
export * from "./gen/huddle/v1/registry_pb";
export * from "./gen/huddle/v1/sfu_pb";
