/**
 * The pipe client SDK: an Effect service over `effect/http`'s HttpClient, with the protocol's Schemas.
 */
export * from "../schema/Health.js"
export * from "../schema/PipeApi.js"
export * from "../schema/PipeEvent.js"
export * from "../schema/Snapshot.js"
export { decodeSseFrame, makeSseParser, type SseFrame } from "../schema/Sse.js"
export * from "./ClientError.js"
export * as NodePipeClient from "./NodePipeClient.js"
export * from "./PipeClient.js"
export * from "./PipeUrl.js"
export { SendUpdate } from "./SenderStatus.js"
