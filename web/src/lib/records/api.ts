// The messages and documents page's calls: the sealed items of one patient at one practice,
// through the API as the patient's holder, opened and sealed in the crypto worker. Upload and
// download report their progress; a document's plaintext is handed out only once its whole
// stream decrypted and matched the digest its author signed.
import type { CryptoClient } from "../../crypto/client";
import type { DocumentHandle, KeyBinding, OpenedRecord, SealedRecord, Standing, UnlockedKeys } from "../../crypto/protocol";
import { ApiFailure, csrfToken, ok, sessionApi } from "../api/session";
import type { components } from "../api/schema";
import { fromBase64Url, toBase64Url } from "../base64url";
import { untilProven } from "../keys/directory";
import type { Lang } from "../i18n";
import type { RecordData } from "./data";
import { recordMessages, type RecordMessages } from "./messages";

type Item = components["schemas"]["ItemOut"];

/** The page's context: who reads, where, with which keys. */
export interface Place {
  crypto: CryptoClient;
  data: RecordData;
  keys: UnlockedKeys;
}

export interface Opened {
  itemId: string;
  createdAt: string;
  opened: OpenedRecord;
}

/** What the messages and documents sections do, from one side: the patient's holder here
 * (holderSide), a practice member on the practice's patient page (lib/practice-record). */
export interface RecordSide {
  lang: Lang;
  practiceName: string;
  maxBytes: number;
  messages: RecordMessages;
  /** Whose messages are this reader's side of the conversation. */
  mine: Standing;
  /** Whether this reader may write in the conversation (the form is left out otherwise). */
  maySend: boolean;
  readMessages: () => Promise<Opened[]>;
  sendMessage: (text: string) => Promise<void>;
  readDocuments: () => Promise<Opened[]>;
  uploadDocument: (file: File, onProgress: (progress: Progress) => void) => Promise<void>;
  downloadDocument: (documentId: string, document: DocumentHandle, onProgress: (progress: Progress) => void) => Promise<Blob>;
}

export function holderSide(place: Place): RecordSide {
  return {
    lang: place.data.lang,
    practiceName: place.data.practiceName,
    maxBytes: place.data.maxBytes,
    messages: recordMessages[place.data.lang],
    mine: "holder",
    maySend: true,
    readMessages: () => readMessages(place),
    sendMessage: (text) => sendMessage(place, text),
    readDocuments: () => readDocuments(place),
    uploadDocument: (file, onProgress) => uploadDocument(place, file, onProgress),
    downloadDocument: (documentId, document, onProgress) => downloadDocument(place, documentId, document, onProgress),
  };
}

/** How far an upload or a download is: `done` of `total` bytes (total unknown: null). */
export interface Progress {
  phase: "encrypting" | "sending" | "receiving";
  done: number;
  total: number | null;
}

/** What the worker reads from pieces of this size at a time (the stream's chunk size times 16). */
const PIECE_BYTES = 16 * 65_536;

function base(place: Place): { patient_id: string; practice_id: string } {
  return { patient_id: place.data.patientId, practice_id: place.data.practiceId };
}

function contentUrl(place: Place, documentId: string): string {
  return `/api/v1/me/patients/${place.data.patientId}/practices/${place.data.practiceId}/documents/${documentId}/content`;
}

/** Each item with the wrap of this device's keys (the holder's current epoch). */
function sealed(items: Item[], keys: UnlockedKeys): { records: SealedRecord[]; unreadable: Opened[] } {
  const records: SealedRecord[] = [];
  const unreadable: Opened[] = [];
  for (const item of items) {
    const wrap = item.wraps.find((w) => w.epoch === keys.epoch);
    if (wrap === undefined || item.author_account_id === null) {
      // Sealed for keys this account had before a reset, and not shared again yet.
      unreadable.push({ itemId: item.item_id, createdAt: item.created_at, opened: { itemId: item.item_id, refused: "DecryptionFailed" } });
      continue;
    }
    records.push({ itemId: item.item_id, authorId: item.author_account_id, envelope: fromBase64Url(item.envelope), wrap: fromBase64Url(wrap.wrap) });
  }
  return { records, unreadable };
}

async function openAll(place: Place, kind: "message" | "document", items: Item[]): Promise<Opened[]> {
  const { records, unreadable } = sealed(items, place.keys);
  const opened =
    records.length === 0
      ? []
      : await untilProven(
          (answers) =>
            place.crypto.call("openRecords", {
              pin: place.data.pin,
              keys: place.keys.keys,
              practiceId: place.data.practiceId,
              patientId: place.data.patientId,
              kind,
              records,
              answers,
            }),
          {},
          true, // reading: a practice with no key group (404) has no members, only the holder
        );
  const createdAt = new Map(items.map((item) => [item.item_id, item.created_at]));
  return [...opened.map((record) => ({ itemId: record.itemId, createdAt: createdAt.get(record.itemId) ?? "", opened: record })), ...unreadable].sort((a, b) =>
    a.createdAt.localeCompare(b.createdAt),
  );
}

/** The conversation, oldest first. */
export async function readMessages(place: Place): Promise<Opened[]> {
  const items = await ok(sessionApi.GET("/api/v1/me/patients/{patient_id}/practices/{practice_id}/messages", { params: { path: base(place) } }));
  return openAll(place, "message", items);
}

/** The documents' descriptions, oldest first. */
export async function readDocuments(place: Place): Promise<Opened[]> {
  const items = await ok(sessionApi.GET("/api/v1/me/patients/{patient_id}/practices/{practice_id}/documents", { params: { path: base(place) } }));
  return openAll(place, "document", items);
}

/** Sealed for this account and the practice group's proven key. */
async function recipients(place: Place): Promise<KeyBinding[]> {
  const practice = await untilProven((answers) => place.crypto.call("provePracticeKey", { pin: place.data.pin, practiceId: place.data.practiceId, answers }), {});
  return [place.keys.encryptionBinding, practice.binding];
}

export async function sendMessage(place: Place, text: string): Promise<void> {
  const { conversationId } = await place.crypto.call("conversationId", { practiceId: place.data.practiceId, patientId: place.data.patientId });
  const item = await place.crypto.call("sealMessage", {
    keys: place.keys.keys,
    itemId: globalThis.crypto.randomUUID(),
    conversationId,
    text,
    recipients: await recipients(place),
  });
  await ok(
    sessionApi.POST("/api/v1/me/patients/{patient_id}/practices/{practice_id}/messages", {
      params: { path: base(place) },
      body: { envelope: toBase64Url(item.envelope), wraps: item.wraps.map(toBase64Url) },
    }),
  );
}

/** The raw ciphertext goes up with XMLHttpRequest, the one browser API that reports upload
 * progress over HTTP/1.1. */
function put(url: string, body: Blob, onProgress: (sent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    const token = csrfToken();
    if (token !== undefined) request.setRequestHeader("X-CSRF-Token", token);
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    request.addEventListener("load", () => (request.status === 204 ? resolve() : reject(new ApiFailure(request.status, "upload", "body", undefined))));
    request.addEventListener("error", () => reject(new ApiFailure(0, "network", undefined, undefined)));
    request.send(body);
  });
}

/** Who shares a document, and where its stream and its sealed description go: the holder's
 * routes or the practice's. */
export interface DocumentTarget {
  crypto: CryptoClient;
  keys: UnlockedKeys;
  patientId: string;
  recipients: () => Promise<KeyBinding[]>;
  contentUrl: (documentId: string) => string;
  post: (body: { envelope: string; wraps: string[] }) => Promise<unknown>;
}

/** Encrypts the file a piece at a time in the worker, sends the stream, then posts its sealed
 * description (name and media type inside). */
export async function uploadDocumentTo(target: DocumentTarget, file: File, onProgress: (progress: Progress) => void): Promise<void> {
  const crypto = target.crypto;
  const documentId = globalThis.crypto.randomUUID();
  const to = await target.recipients();
  const { upload } = await crypto.call("startUpload", { documentId });
  try {
    const parts: Uint8Array<ArrayBuffer>[] = [];
    let offset = 0;
    do {
      const piece = new Uint8Array(await file.slice(offset, offset + PIECE_BYTES).arrayBuffer());
      offset += piece.length;
      const { ciphertext } = await crypto.call("encryptPiece", { upload, piece, last: offset >= file.size });
      // Structured-cloned from the worker: backed by a plain ArrayBuffer, as a Blob wants.
      parts.push(ciphertext as Uint8Array<ArrayBuffer>);
      onProgress({ phase: "encrypting", done: offset, total: file.size });
    } while (offset < file.size);
    const stream = new Blob(parts, { type: "application/octet-stream" });
    parts.length = 0;
    await put(target.contentUrl(documentId), stream, (sent) => onProgress({ phase: "sending", done: sent, total: stream.size }));
    const item = await crypto.call("sealDocument", {
      keys: target.keys.keys,
      upload,
      patientId: target.patientId,
      name: file.name,
      mediaType: file.type || "application/octet-stream",
      recipients: to,
    });
    await target.post({ envelope: toBase64Url(item.envelope), wraps: item.wraps.map(toBase64Url) });
  } finally {
    // Already forgotten once sealed; after a failure, the stream key goes too.
    await crypto.call("forget", { handle: upload }).catch(() => undefined);
  }
}

function holderTarget(place: Place): DocumentTarget {
  return {
    crypto: place.crypto,
    keys: place.keys,
    patientId: place.data.patientId,
    recipients: () => recipients(place),
    contentUrl: (documentId) => contentUrl(place, documentId),
    post: (body) => ok(sessionApi.POST("/api/v1/me/patients/{patient_id}/practices/{practice_id}/documents", { params: { path: base(place) }, body })),
  };
}

export function uploadDocument(place: Place, file: File, onProgress: (progress: Progress) => void): Promise<void> {
  return uploadDocumentTo(holderTarget(place), file, onProgress);
}

export function downloadDocument(place: Place, documentId: string, document: DocumentHandle, onProgress: (progress: Progress) => void): Promise<Blob> {
  return downloadFrom(place.crypto, contentUrl(place, documentId), document, onProgress);
}

/** Streams the document down, decrypting as it comes; the plaintext, only once the stream ended
 * cleanly and is the one its author signed. */
export async function downloadFrom(crypto: CryptoClient, url: string, document: DocumentHandle, onProgress: (progress: Progress) => void): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch {
    throw new ApiFailure(0, "network", undefined, undefined);
  }
  if (!response.ok || response.body === null) throw new ApiFailure(response.status, "download", undefined, undefined);
  const reader = response.body.getReader();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
      const { plaintext } = await crypto.call("decryptPiece", { document, piece: value });
      parts.push(plaintext as Uint8Array<ArrayBuffer>);
      onProgress({ phase: "receiving", done: received, total: null });
    }
  } catch (failure) {
    // The next try starts from the beginning of the stream: finishing resets the worker's side.
    await crypto.call("finishDownload", { document }).catch(() => undefined);
    throw failure;
  }
  const { plaintext } = await crypto.call("finishDownload", { document });
  parts.push(plaintext as Uint8Array<ArrayBuffer>);
  return new Blob(parts);
}
