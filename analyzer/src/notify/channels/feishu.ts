/**
 * Feishu / Lark custom bot (飞书自定义机器人): a `post` rich-text message. With a secret ("签名校验")
 * the body carries `timestamp` (seconds) and `sign` = Base64(HMAC-SHA256(key = "<ts>\n<secret>",
 * message = empty)). Feishu answers `{code, msg}` (older bots `{StatusCode, StatusMessage}`); 0 is
 * accepted.
 */
import { createHmac } from 'node:crypto';
import { string } from '../../../../probe/src/contract/shape.ts';
import { renderMessage } from '../message.ts';
import { acceptCode, jsonRequest, type ChannelModule } from './channel.ts';

/** Codes retrying cannot fix: signature mismatch, bad parameters, keyword / IP security. */
const FINAL_CODES = new Set([19021, 19022, 19024, 9499]);

export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

export const feishu: ChannelModule = {
  type: 'feishu',
  defaultUrl: null,
  defaultRateLimit: { count: 100, perMs: 60_000 },
  keys: { secret: { validator: string() as never } },
  secretKeys: ['secret'],
  build(event, channel, ctx) {
    const message = renderMessage(event, ctx.externalUrl);
    const content = [
      ...message.fields.map(([k, v]) => [{ tag: 'text', text: `${k}: ${v}` }]),
      ...message.links.map((href) => [{ tag: 'a', text: href, href }]),
    ];
    const payload: Record<string, unknown> = { msg_type: 'post', content: { post: { zh_cn: { title: message.title, content } } } };
    const secret = channel.secretValues[0];
    if (secret) {
      const ts = Math.floor(ctx.nowMs / 1000);
      payload.timestamp = String(ts);
      payload.sign = feishuSign(secret, ts);
    }
    return jsonRequest(channel.url, payload, channel.headers);
  },
  accept: (answer) => acceptCode(answer, 'code', FINAL_CODES, (json) => ({ code: json?.code ?? json?.StatusCode, message: json?.msg ?? json?.StatusMessage })),
};
