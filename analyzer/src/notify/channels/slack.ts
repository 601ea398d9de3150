/**
 * Slack incoming webhook: `{text, blocks}` (text is the notification fallback). The URL is the
 * secret. Slack answers 200 "ok"; 4xx with a reason are final (e.g. 404 no_service), 429 and 5xx
 * are retried.
 */
import { fieldsMarkdown, plainText, renderMessage } from '../message.ts';
import { acceptHttp, jsonRequest, type ChannelModule } from './channel.ts';

const MAX_SECTION_CHARS = 3000;

export const slack: ChannelModule = {
  type: 'slack',
  defaultUrl: null,
  defaultRateLimit: { count: 1, perMs: 1000 },
  keys: {},
  secretKeys: [],
  build(event, channel, ctx) {
    const message = renderMessage(event, ctx.externalUrl);
    const body = fieldsMarkdown(message, (s) => `*${s}*`);
    return jsonRequest(channel.url, {
      text: message.title,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: message.title.slice(0, 150) } },
        { type: 'section', text: { type: 'mrkdwn', text: body.slice(0, MAX_SECTION_CHARS) } },
      ],
      // Where blocks are not shown (some clients, notifications) the text is the whole message.
      ...(body.length > MAX_SECTION_CHARS ? { text: plainText(message).slice(0, 4000) } : {}),
    }, channel.headers);
  },
  accept: acceptHttp,
};
