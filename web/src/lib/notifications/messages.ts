// The text of the "check a reference" box. One typed object per language, as in ../i18n.ts: a
// key missing from, or extra in, either language fails svelte-check.
import type { Lang } from "../i18n";

export type Template =
  | "appointment_confirmed"
  | "appointment_cancelled"
  | "appointment_moved"
  | "waitlist_offer"
  | "waitlist_offer_expired"
  | "message_received"
  | "reminder_week"
  | "reminder_day"
  | "reminder_sms"
  | "no_show_follow_up";

export interface NotificationMessages {
  label: string;
  submit: string;
  checking: string;
  found: (title: string, sent: string, reference: string) => string;
  notFound: string;
  invalid: string;
  failed: string;
  templates: Record<Template, string>;
  other: string;
}

export const notificationMessages: Record<Lang, NotificationMessages> = {
  fr: {
    label: "Référence indiquée dans le message",
    submit: "Vérifier",
    checking: "Vérification…",
    found: (title, sent, reference) =>
      `Ce message vient bien de Colloque : ${title}, envoyé le ${sent} (référence ${reference}).`,
    notFound:
      "Référence introuvable : ce message ne vient pas de Colloque. N'en suivez pas les liens et ne répondez pas.",
    invalid: "Une référence compte 8 lettres et chiffres, comme ABCD2345.",
    failed: "La vérification n'a pas abouti ; réessayez dans un instant.",
    templates: {
      appointment_confirmed: "Rendez-vous confirmé",
      appointment_cancelled: "Rendez-vous annulé",
      appointment_moved: "Rendez-vous déplacé",
      waitlist_offer: "Créneau proposé (liste d'attente)",
      waitlist_offer_expired: "Proposition expirée (liste d'attente)",
      message_received: "Nouveau message d'un cabinet",
      reminder_week: "Rappel de rendez-vous (une semaine avant)",
      reminder_day: "Rappel de rendez-vous (la veille)",
      reminder_sms: "Rappel de rendez-vous par SMS (la veille)",
      no_show_follow_up: "Rendez-vous manqué",
    },
    other: "Message de votre compte",
  },
  en: {
    label: "Reference named in the message",
    submit: "Check",
    checking: "Checking…",
    found: (title, sent, reference) =>
      `This message is from Colloque: ${title}, sent on ${sent} (reference ${reference}).`,
    notFound: "Reference not found: this message is not from Colloque. Do not follow its links and do not reply.",
    invalid: "A reference is 8 letters and digits, like ABCD2345.",
    failed: "The check did not go through; try again in a moment.",
    templates: {
      appointment_confirmed: "Appointment confirmed",
      appointment_cancelled: "Appointment cancelled",
      appointment_moved: "Appointment moved",
      waitlist_offer: "Time offered (waiting list)",
      waitlist_offer_expired: "Offer expired (waiting list)",
      message_received: "New message from a practice",
      reminder_week: "Appointment reminder (a week before)",
      reminder_day: "Appointment reminder (the day before)",
      reminder_sms: "Appointment reminder by SMS (the day before)",
      no_show_follow_up: "Missed appointment",
    },
    other: "Message about your account",
  },
};
