// The account components' text, one typed object per language (a key missing from either is a
// type error, as in lib/i18n.ts). Their own module, so that the public pages do not carry it.
import type { Lang } from "../i18n";
import type { ApiFailure } from "../api/session";

export interface AccountMessages {
  email: string;
  password: string;
  displayName: string;
  logIn: string;
  working: string;
  argonNote: string;
  reloadNote: string;
  totpCode: string;
  totpPrompt: string;
  secondFactorCode: string;
  verify: string;
  noAccount: string;
  haveAccount: string;
  signUp: string;
  strength: (score: number) => string;
  passwordRules: string;
  passwordShort: string;
  passwordLong: string;
  passwordWeak: string;
  codeSent: (email: string) => string;
  mailCode: string;
  recoveryTitle: string;
  recoveryExplain: string;
  recoveryConfirm: (groups: string) => string;
  recoveryGroup: (n: number) => string;
  recoveryMismatch: string;
  finish: string;
  signedInAs: (name: string, email: string) => string;
  changePassword: string;
  currentPassword: string;
  newPassword: string;
  passwordChanged: string;
  recoveryStatusTitle: string;
  recoveryMade: (when: string) => string;
  recoveryNeverUsed: string;
  recoveryUsed: (when: string) => string;
  recoveryRenewExplain: string;
  recoveryRenew: string;
  recoveryNewTitle: string;
  recoveryNewExplain: string;
  recoverySave: string;
  recoveryCancel: string;
  recoveryKept: string;
  recoveryRenewed: string;
  recoveryTooSlow: string;
  totpTitle: string;
  totpOn: string;
  totpOff: string;
  totpEnable: string;
  totpDisable: string;
  totpScan: string;
  totpSecret: string;
  totpConfirm: string;
  totpCodes: string;
  totpDone: string;
  totpDisabled: string;
  totpQr: string;
  totpNeeded: string;
  totpContinue: string;
  createPractice: string;
  logOut: string;
  sessionsTitle: string;
  remindersTitle: string;
  remindersExplain: string;
  remindersLabel: string;
  remindersOn: string;
  remindersOff: string;
  logOutHere: string;
  logOutOthers: string;
  logOutOthersExplain: string;
  logOutOthersConfirm: string;
  confirm: string;
  cancel: string;
  loggedOutOthers: (count: number) => string;
  sessionsExplain: string;
  sessionsLoading: string;
  thisDevice: string;
  kindCookie: string;
  kindToken: string;
  unknownSoftware: string;
  unknownPlace: string;
  network: (prefix: string) => string;
  sessionTimes: (opened: string, used: string) => string;
  endSession: (what: string) => string;
  sessionEnded: string;
  noOtherSession: string;
  failures: Record<string, string>;
  failed: string;
}

const fr: AccountMessages = {
  email: "Adresse e-mail",
  password: "Mot de passe",
  displayName: "Nom affiché",
  logIn: "Se connecter",
  working: "Protection du mot de passe en cours…",
  argonNote: "Votre mot de passe ne quitte jamais cet appareil : il est transformé ici, ce qui prend quelques secondes.",
  reloadNote: "Vos clés ne restent ouvertes que dans cet onglet : après un rechargement, vous devrez saisir à nouveau votre mot de passe.",
  totpCode: "Code de l'application d'authentification",
  totpPrompt:
    "Ce compte est protégé par un second facteur : saisissez le code à 6 chiffres de votre application, ou l'un de vos codes de secours si vous n'avez plus votre téléphone.",
  secondFactorCode: "Code à 6 chiffres ou code de secours",
  verify: "Valider",
  noAccount: "Pas encore de compte ?",
  haveAccount: "Déjà un compte ?",
  signUp: "Créer un compte",
  strength: (score) => `Robustesse : ${["très faible", "faible", "moyenne", "bonne", "excellente"][score] ?? ""}`,
  passwordRules: "Au moins 12 caractères, difficile à deviner ; une phrase de plusieurs mots convient bien.",
  passwordShort: "Le mot de passe doit compter au moins 12 caractères.",
  passwordLong: "Le mot de passe doit compter au plus 1 024 caractères.",
  passwordWeak: "Ce mot de passe est trop facile à deviner. Allongez-le ou ajoutez des mots peu courants.",
  codeSent: (email) => `Un code à 6 chiffres a été envoyé à ${email}. Il est valable 10 minutes.`,
  mailCode: "Code reçu par e-mail",
  recoveryTitle: "Votre code de récupération",
  recoveryExplain:
    "Notez ce code et gardez-le en lieu sûr. C'est le seul moyen de retrouver vos données si vous oubliez votre mot de passe : personne, pas même Colloque, ne peut le faire à votre place. Il ne sera plus affiché.",
  recoveryConfirm: (groups) => `Pour confirmer que vous l'avez noté, saisissez les groupes ${groups} du code.`,
  recoveryGroup: (n) => `Groupe n° ${n}`,
  recoveryMismatch: "Ces groupes ne correspondent pas au code. Vérifiez ce que vous avez noté.",
  finish: "Terminer l'inscription",
  signedInAs: (name, email) => `Connecté en tant que ${name} (${email}).`,
  changePassword: "Changer le mot de passe",
  currentPassword: "Mot de passe actuel",
  newPassword: "Nouveau mot de passe",
  passwordChanged: "Mot de passe changé. Vos autres sessions ont été fermées.",
  recoveryStatusTitle: "Code de récupération",
  recoveryMade: (when) => `Votre code de récupération actuel a été créé le ${when}. Il n'a été affiché qu'une fois ; nous ne le connaissons pas.`,
  recoveryNeverUsed: "Il n'a jamais servi.",
  recoveryUsed: (when) =>
    `Il a servi à commencer une récupération du compte le ${when}. Si ce n'était pas vous, créez un nouveau code maintenant et changez votre mot de passe.`,
  recoveryRenewExplain:
    "Code perdu, ou noté dans un endroit peu sûr ? Créez-en un nouveau : l'ancien cessera de fonctionner dès que vous aurez confirmé avoir noté le nouveau.",
  recoveryRenew: "Créer un nouveau code",
  recoveryNewTitle: "Votre nouveau code de récupération",
  recoveryNewExplain:
    "Notez ce code et gardez-le en lieu sûr : c'est le seul moyen de retrouver vos données si vous oubliez votre mot de passe. Il ne sera plus affiché. Tant que vous n'avez pas confirmé, l'ancien code reste valable.",
  recoverySave: "Remplacer l'ancien code",
  recoveryCancel: "Annuler",
  recoveryKept: "Rien n'a changé : votre code actuel reste valable.",
  recoveryRenewed: "Nouveau code de récupération enregistré. L'ancien ne fonctionne plus.",
  recoveryTooSlow: "Plus de 5 minutes se sont écoulées depuis la saisie du mot de passe. Recommencez : votre code actuel reste valable.",
  totpTitle: "Double authentification (TOTP)",
  totpOn: "Activée.",
  totpOff: "Désactivée.",
  totpEnable: "Activer",
  totpDisable: "Désactiver",
  totpScan: "Ajoutez ce compte dans votre application d'authentification avec le lien ou la clé ci-dessous, puis saisissez le code affiché.",
  totpSecret: "Clé",
  totpConfirm: "Confirmer",
  totpCodes: "Codes de secours, utilisables une fois chacun si vous perdez votre téléphone. Notez-les, ils ne seront plus affichés :",
  totpDone: "La double authentification est activée.",
  totpDisabled: "La double authentification est désactivée.",
  totpQr: "QR code à scanner avec votre application d'authentification",
  totpNeeded:
    "Les membres d'un cabinet protègent leur compte par une double authentification : activez-la ci-dessous (votre mot de passe, puis le QR code et un code de l'application) pour ouvrir les pages du cabinet.",
  totpContinue: "Continuer vers le cabinet",
  createPractice: "Créer un cabinet",
  logOut: "Se déconnecter",
  sessionsTitle: "Sessions et appareils",
  remindersTitle: "Rappels de rendez-vous",
  remindersExplain:
    "Un courriel une semaine et la veille de vos rendez-vous. Les confirmations, déplacements et annulations sont toujours envoyés.",
  remindersLabel: "Recevoir des rappels",
  remindersOn: "Les rappels sont activés.",
  remindersOff: "Vous ne recevrez plus de rappels.",
  logOutHere: "Fermer la session de cet appareil.",
  logOutOthers: "Déconnecter tous les autres appareils",
  logOutOthersExplain:
    "Appareil perdu, ordinateur partagé ? Fermez toutes vos autres sessions : navigateurs, applications et jetons d'accès. Celle-ci reste ouverte.",
  logOutOthersConfirm: "Fermer toutes les sessions de ce compte sauf celle-ci ?",
  confirm: "Confirmer",
  cancel: "Annuler",
  loggedOutOthers: (count) =>
    count === 0 ? "Aucune autre session n'était ouverte." : count === 1 ? "1 autre session a été fermée." : `${count} autres sessions ont été fermées.`,
  sessionsExplain:
    "Les navigateurs et applications connectés à votre compte. Vous n'en reconnaissez pas un ? Fermez-le, puis changez votre mot de passe.",
  sessionsLoading: "Chargement des sessions…",
  thisDevice: "Cet appareil",
  kindCookie: "navigateur",
  kindToken: "jeton d'accès",
  unknownSoftware: "Logiciel non reconnu",
  unknownPlace: "lieu inconnu",
  network: (prefix) => `réseau ${prefix}`,
  sessionTimes: (opened, used) => `Ouverte le ${opened}, dernière activité le ${used}`,
  endSession: (what) => `Fermer la session ${what}`,
  sessionEnded: "La session a été fermée.",
  noOtherSession: "Aucune autre session n'est ouverte.",
  failures: {
    "login-failed": "Adresse ou mot de passe incorrect.",
    "mfa-required": "Saisissez le code de votre application d'authentification.",
    "reauthentication-required": "Confirmez d'abord votre mot de passe.",
    "too-many-requests": "Trop d'essais. Réessayez plus tard.",
    code: "Ce code n'est pas valide ou a expiré.",
    email: "Cette adresse n'est pas valide ou a déjà un compte.",
    network: "Le serveur est injoignable. Vérifiez votre connexion et réessayez.",
    totp: "Ce code n'est pas valide.",
    recovery_code: "Ce code de secours n'est pas valide ou a déjà servi.",
    old_auth_key: "Le mot de passe actuel est incorrect.",
  },
  failed: "Cela n'a pas fonctionné. Réessayez dans un instant.",
};

const en: AccountMessages = {
  email: "Email address",
  password: "Password",
  displayName: "Display name",
  logIn: "Log in",
  working: "Protecting your password…",
  argonNote: "Your password never leaves this device: it is transformed here, which takes a few seconds.",
  reloadNote: "Your keys stay open in this tab only: after a reload you will type your password again.",
  totpCode: "Authenticator app code",
  totpPrompt: "This account has a second factor: type the 6-digit code from your app, or one of your backup codes if you no longer have your phone.",
  secondFactorCode: "6-digit code or backup code",
  verify: "Verify",
  noAccount: "No account yet?",
  haveAccount: "Already have an account?",
  signUp: "Sign up",
  strength: (score) => `Strength: ${["very weak", "weak", "fair", "good", "excellent"][score] ?? ""}`,
  passwordRules: "At least 12 characters, hard to guess; a phrase of several words works well.",
  passwordShort: "The password needs at least 12 characters.",
  passwordLong: "The password may have at most 1,024 characters.",
  passwordWeak: "This password is too easy to guess. Make it longer or add uncommon words.",
  codeSent: (email) => `A 6-digit code was sent to ${email}. It is valid for 10 minutes.`,
  mailCode: "Code from the email",
  recoveryTitle: "Your recovery code",
  recoveryExplain:
    "Write this code down and keep it safe. It is the only way back to your data if you forget your password: nobody, not even Colloque, can do it for you. It will not be shown again.",
  recoveryConfirm: (groups) => `To confirm you wrote it down, type groups ${groups} of the code.`,
  recoveryGroup: (n) => `Group no. ${n}`,
  recoveryMismatch: "These groups do not match the code. Check what you wrote down.",
  finish: "Finish signing up",
  signedInAs: (name, email) => `Signed in as ${name} (${email}).`,
  changePassword: "Change the password",
  currentPassword: "Current password",
  newPassword: "New password",
  passwordChanged: "Password changed. Your other sessions were ended.",
  recoveryStatusTitle: "Recovery code",
  recoveryMade: (when) => `Your current recovery code was made on ${when}. It was shown only once; we do not know it.`,
  recoveryNeverUsed: "It has never been used.",
  recoveryUsed: (when) =>
    `It was used to start a recovery of the account on ${when}. If that was not you, make a new code now and change your password.`,
  recoveryRenewExplain:
    "Lost the code, or wrote it down somewhere unsafe? Make a new one: the old one stops working as soon as you confirm you wrote the new one down.",
  recoveryRenew: "Make a new code",
  recoveryNewTitle: "Your new recovery code",
  recoveryNewExplain:
    "Write this code down and keep it safe: it is the only way back to your data if you forget your password. It will not be shown again. Until you confirm, the old code still works.",
  recoverySave: "Replace the old code",
  recoveryCancel: "Cancel",
  recoveryKept: "Nothing changed: your current code still works.",
  recoveryRenewed: "New recovery code saved. The old one no longer works.",
  recoveryTooSlow: "More than 5 minutes passed since you typed your password. Start again: your current code still works.",
  totpTitle: "Two-factor authentication (TOTP)",
  totpOn: "On.",
  totpOff: "Off.",
  totpEnable: "Turn on",
  totpDisable: "Turn off",
  totpScan: "Add this account to your authenticator app with the link or the key below, then type the code it shows.",
  totpSecret: "Key",
  totpConfirm: "Confirm",
  totpCodes: "Backup codes, each usable once if you lose your phone. Write them down; they will not be shown again:",
  totpDone: "Two-factor authentication is on.",
  totpDisabled: "Two-factor authentication is off.",
  totpQr: "QR code to scan with your authenticator app",
  totpNeeded:
    "Practice members protect their account with two-factor authentication: turn it on below (your password, then the QR code and a code from the app) to open the practice's pages.",
  totpContinue: "Continue to the practice",
  createPractice: "Create a practice",
  logOut: "Log out",
  sessionsTitle: "Sessions and devices",
  remindersTitle: "Appointment reminders",
  remindersExplain:
    "An email a week and a day before your appointments. Confirmations, moves and cancellations are always sent.",
  remindersLabel: "Receive reminders",
  remindersOn: "Reminders are on.",
  remindersOff: "You will no longer receive reminders.",
  logOutHere: "End the session on this device.",
  logOutOthers: "Log out all other devices",
  logOutOthersExplain:
    "Lost a device, used a shared computer? End all your other sessions: browsers, apps and access tokens. This one stays open.",
  logOutOthersConfirm: "End every session of this account except this one?",
  confirm: "Confirm",
  cancel: "Cancel",
  loggedOutOthers: (count) =>
    count === 0 ? "No other session was open." : count === 1 ? "1 other session was ended." : `${count} other sessions were ended.`,
  sessionsExplain: "The browsers and apps signed in to your account. One you do not recognise? End it, then change your password.",
  sessionsLoading: "Loading the sessions…",
  thisDevice: "This device",
  kindCookie: "browser",
  kindToken: "access token",
  unknownSoftware: "Unknown software",
  unknownPlace: "unknown place",
  network: (prefix) => `network ${prefix}`,
  sessionTimes: (opened, used) => `Opened ${opened}, last used ${used}`,
  endSession: (what) => `End the session ${what}`,
  sessionEnded: "The session was ended.",
  noOtherSession: "No other session is open.",
  failures: {
    "login-failed": "Wrong address or password.",
    "mfa-required": "Type the code from your authenticator app.",
    "reauthentication-required": "Confirm your password first.",
    "too-many-requests": "Too many tries. Try again later.",
    code: "This code is not valid or has expired.",
    email: "This address is not valid or already has an account.",
    network: "The server cannot be reached. Check your connection and try again.",
    totp: "This code is not valid.",
    recovery_code: "This backup code is not valid or was already used.",
    old_auth_key: "The current password is wrong.",
  },
  failed: "That did not work. Try again in a moment.",
};

export const accountMessages: Record<Lang, AccountMessages> = { fr, en };

/** What to say about an API refusal: by its field first (422), then by its problem code. */
export function explain(messages: AccountMessages, failure: ApiFailure): string {
  return (
    (failure.field !== undefined ? messages.failures[failure.field] : undefined) ??
    messages.failures[failure.code] ??
    (failure.status === 429 ? messages.failures["too-many-requests"] : undefined) ??
    messages.failed
  );
}
