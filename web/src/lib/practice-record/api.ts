// A patient's record at the practice, from a member's side: the notes, messages and documents
// through the staff API, opened in one worker call per kind (openPracticeRecords), each key proven
// in the key directory. Messages and documents are sealed for the practice group and the
// patient's holder; notes for the holder and the practitioners' group (clinical.ts), so that only
// practitioners' keys open them; notes written before that group existed still open with the
// practice group's key. Uploads and downloads are the holder page's (lib/records/api.ts).
import type { CryptoClient } from "../../crypto/client";
import type { KeyBinding, OpenedAgendaReason, RecordKind, UnlockedKeys } from "../../crypto/protocol";
import { ok, sessionApi } from "../api/session";
import { fromBase64Url, toBase64Url } from "../base64url";
import { untilProven } from "../keys/directory";
import type { ClinicalGroup } from "./clinical";
import { downloadFrom, uploadDocumentTo, type Opened, type RecordSide } from "../records/api";
import { recordMessages } from "../records/messages";
import type { PracticeRecordData } from "./data";
import { memberRecordMessages } from "./messages";

export interface MemberPlace {
  crypto: CryptoClient;
  data: PracticeRecordData;
  keys: UnlockedKeys;
  /** A practitioner's practitioners' group, as their browser found it (null for other roles). */
  clinical: ClinicalGroup | null;
}

function path(place: MemberPlace): { practice_id: string; patient_id: string } {
  return { practice_id: place.data.practiceId, patient_id: place.data.patientId };
}

function contentUrl(place: MemberPlace, documentId: string): string {
  return `/api/v1/practices/${place.data.practiceId}/patients/${place.data.patientId}/documents/${documentId}/content`;
}

type Listed = { item_id: string; created_at: string; envelope: string; wraps: { wrap: string }[] };

async function groupWraps(place: MemberPlace): Promise<Uint8Array[]> {
  const group = await ok(sessionApi.GET("/api/v1/practices/{practice_id}/key-group", { params: { path: { practice_id: place.data.practiceId } } }));
  return group.wraps.map((w) => fromBase64Url(w.wrap));
}

/** The appointments' visit reasons, opened as the agenda opens them (openAgendaReasons). */
export async function openReasons(place: MemberPlace): Promise<OpenedAgendaReason[]> {
  const { reasons, pin, practiceId, holderId } = place.data;
  if (reasons.length === 0) return [];
  const items = reasons.map((reason) => ({
    appointmentId: reason.appointmentId,
    itemId: reason.itemId,
    envelope: fromBase64Url(reason.envelope),
    wraps: reason.wraps.map(fromBase64Url),
    holderId,
  }));
  const wraps = await groupWraps(place);
  return untilProven((answers) => place.crypto.call("openAgendaReasons", { pin, keys: place.keys.keys, practiceId, groupWraps: wraps, items, answers }), {}, true);
}

async function list(place: MemberPlace, kind: RecordKind): Promise<Listed[]> {
  const params = { params: { path: path(place) } };
  if (kind === "note") return ok(sessionApi.GET("/api/v1/practices/{practice_id}/patients/{patient_id}/notes", params));
  if (kind === "message") return ok(sessionApi.GET("/api/v1/practices/{practice_id}/patients/{patient_id}/messages", params));
  return ok(sessionApi.GET("/api/v1/practices/{practice_id}/patients/{patient_id}/documents", params));
}

/** One kind of the patient's items, oldest first, each opened or refused with its reason. */
export async function readRecords(place: MemberPlace, kind: RecordKind): Promise<Opened[]> {
  const listed = await list(place, kind);
  if (listed.length === 0) return [];
  const wraps = await groupWraps(place);
  const items = listed.map((item) => ({ itemId: item.item_id, envelope: fromBase64Url(item.envelope), wraps: item.wraps.map((w) => fromBase64Url(w.wrap)) }));
  const opened = await untilProven(
    (answers) =>
      place.crypto.call("openPracticeRecords", {
        pin: place.data.pin,
        keys: place.keys.keys,
        practiceId: place.data.practiceId,
        patientId: place.data.patientId,
        holderId: place.data.holderId,
        kind,
        groupWraps: wraps,
        clinicalWraps: kind === "note" ? (place.clinical?.wraps ?? []) : [],
        items,
        answers,
      }),
    {},
    // An author whose keys the server will not show is neither a member nor the holder: that
    // item is refused, the others still open.
    true,
  );
  const createdAt = new Map(listed.map((item) => [item.item_id, item.created_at]));
  return opened
    .map((record) => ({ itemId: record.itemId, createdAt: createdAt.get(record.itemId) ?? "", opened: record }))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The practice group's proven key, and the patient's holder's when an account holds them. */
async function recipients(place: MemberPlace): Promise<KeyBinding[]> {
  const { pin, practiceId, holderId } = place.data;
  const group = await untilProven((answers) => place.crypto.call("provePracticeKey", { pin, practiceId, answers }), {});
  if (holderId === null) return [group.binding];
  const holder = await untilProven((answers) => place.crypto.call("proveUserKey", { pin, userId: holderId, answers }), {});
  return [holder.binding, group.binding];
}

/** A note's recipients: the patient's holder (when an account holds them) and the
 * practitioners' group, never the practice group, whose key secretaries and admins hold too. */
async function noteRecipients(place: MemberPlace): Promise<KeyBinding[]> {
  const { pin, practiceId, holderId } = place.data;
  const group = await untilProven((answers) => place.crypto.call("proveClinicalKey", { pin, practiceId, answers }), {});
  if (holderId === null) return [group.binding];
  const holder = await untilProven((answers) => place.crypto.call("proveUserKey", { pin, userId: holderId, answers }), {});
  return [holder.binding, group.binding];
}

export async function writeNote(place: MemberPlace, text: string): Promise<void> {
  const item = await place.crypto.call("sealNote", {
    keys: place.keys.keys,
    itemId: globalThis.crypto.randomUUID(),
    patientId: place.data.patientId,
    text,
    recipients: await noteRecipients(place),
  });
  await ok(
    sessionApi.POST("/api/v1/practices/{practice_id}/patients/{patient_id}/notes", {
      params: { path: path(place) },
      body: { envelope: toBase64Url(item.envelope), wraps: item.wraps.map(toBase64Url) },
    }),
  );
}

async function sendMessage(place: MemberPlace, text: string): Promise<void> {
  const { conversationId } = await place.crypto.call("conversationId", { practiceId: place.data.practiceId, patientId: place.data.patientId });
  const item = await place.crypto.call("sealMessage", {
    keys: place.keys.keys,
    itemId: globalThis.crypto.randomUUID(),
    conversationId,
    text,
    recipients: await recipients(place),
  });
  await ok(
    sessionApi.POST("/api/v1/practices/{practice_id}/patients/{patient_id}/messages", {
      params: { path: path(place) },
      body: { envelope: toBase64Url(item.envelope), wraps: item.wraps.map(toBase64Url) },
    }),
  );
}

/** The messages and documents sections (shared with the holder's page) from this member's side. */
export function memberSide(place: MemberPlace): RecordSide {
  const lang = place.data.lang;
  return {
    lang,
    practiceName: place.data.practiceName,
    maxBytes: place.data.maxBytes,
    messages: { ...recordMessages[lang], ...memberRecordMessages[lang].shared },
    mine: "member",
    maySend: place.data.maySendMessages,
    readMessages: () => readRecords(place, "message"),
    sendMessage: (text) => sendMessage(place, text),
    readDocuments: () => readRecords(place, "document"),
    uploadDocument: (file, onProgress) =>
      uploadDocumentTo(
        {
          crypto: place.crypto,
          keys: place.keys,
          patientId: place.data.patientId,
          recipients: () => recipients(place),
          contentUrl: (documentId) => contentUrl(place, documentId),
          post: (body) => ok(sessionApi.POST("/api/v1/practices/{practice_id}/patients/{patient_id}/documents", { params: { path: path(place) }, body })),
        },
        file,
        onProgress,
      ),
    downloadDocument: (documentId, document, onProgress) => downloadFrom(place.crypto, contentUrl(place, documentId), document, onProgress),
  };
}
