/**
 * DingTalk custom robot (钉钉自定义机器人): a markdown message. With a secret ("加签") the URL gets
 * `timestamp=<ms>&sign=<urlencoded Base64(HMAC-SHA256(secret, "<ms>\n<secret>"))>`. DingTalk
 * answers HTTP 200 with `{errcode, errmsg}`: only errcode 0 is accepted. A robot takes 20 messages
 * a minute.
 */
import { createHmac } from 'node:crypto';
import { string } from '../../../../probe/src/contract/shape.ts';
import { capBytes, markdownText, renderMessage } from '../message.ts';
import { acceptCode, jsonRequest, type ChannelModule } from './channel.ts';

/** errcodes retrying cannot fix: security settings (sign, keyword, IP) and a bad or stopped robot. */
const FINAL_ERRCODES = new Set([300001, 310000, 400102]);

export function dingTalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

export const dingtalk: ChannelModule = {
  type: 'dingtalk',
  defaultUrl: null,
  defaultRateLimit: { count: 20, perMs: 60_000 },
  keys: { secret: { validator: string() as never } },
  secretKeys: ['secret'],
  build(event, channel, ctx) {
    const message = renderMessage(event, ctx.externalUrl);
    let url = channel.url;
    const secret = channel.secretValues[0];
    if (secret) {
      const ts = Math.floor(ctx.nowMs);
      url += `${url.includes('?') ? '&' : '?'}timestamp=${ts}&sign=${encodeURIComponent(dingTalkSign(secret, ts))}`;
    }
    return jsonRequest(url, { msgtype: 'markdown', markdown: { title: message.title.slice(0, 100), text: capBytes(markdownText(message), 4000) } }, channel.headers);
  },
  accept: (answer) => acceptCode(answer, 'errcode', FINAL_ERRCODES, (json) => ({ code: json?.errcode, message: json?.errmsg })),
};
