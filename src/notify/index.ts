/**
 * Notifications: an org's channels (email over SMTP, a JSON webhook, a Slack incoming webhook),
 * sealed at rest, and the Notifier that sends the events use cases raise and logs every delivery.
 * Shells build the notifier with `createNotifier({ store, keyring })` and pass it to use cases.
 */
export { createNotifier } from './notifier.ts';
export type { DeliveryOutcome, NotifierDeps, VaultNotifier } from './notifier.ts';
export { channelViews, orgChannels, removeChannel, setChannel } from './settings.ts';
export type { ChannelChanges, ChannelSettingsDeps } from './settings.ts';
export { CHANNEL_TYPES, EVENT_DESCRIPTIONS, SMTP_SECURITY, checkEmailAddress, checkWebhookUrl, parseEventKinds } from './config.ts';
export type { ChannelView, SmtpSecurity } from './config.ts';
export { kindLabel } from './message.ts';
export { jobFailedEvent, objectsInErrorEvent, orgBehindEvent, restoreFinishedEvent } from './events.ts';
