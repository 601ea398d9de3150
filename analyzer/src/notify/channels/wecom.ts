/**
 * WeCom group robot (企业微信群机器人): `markdown` (≤ 4096 bytes), or `text` (≤ 2048 bytes) when
 * people are to be @-mentioned. No signature: the key in the URL is the secret. WeCom answers
 * `{errcode, errmsg}`; only errcode 0 is accepted. A robot takes 20 messages a minute.
 */
import { array, string } from '../../../../probe/src/contract/shape.ts';
import { capBytes, markdownText, plainText, renderMessage } from '../message.ts';
import { acceptCode, jsonRequest, type ChannelModule } from './channel.ts';

/** errcodes retrying cannot fix: invalid webhook URL / key. */
const FINAL_ERRCODES = new Set([93000, 40001, 40014]);

export const wecom: ChannelModule = {
  type: 'wecom',
  defaultUrl: null,
  defaultRateLimit: { count: 20, perMs: 60_000 },
  keys: {
    mentioned_list: { validator: array(string()) as never },
    mentioned_mobile_list: { validator: array(string()) as never },
  },
  secretKeys: [],
  build(event, channel, ctx) {
    const message = renderMessage(event, ctx.externalUrl);
    const mentioned = (channel.options.mentioned_list as string[] | undefined) ?? [];
    const mobiles = (channel.options.mentioned_mobile_list as string[] | undefined) ?? [];
    if (mentioned.length > 0 || mobiles.length > 0) {
      return jsonRequest(channel.url, {
        msgtype: 'text',
        text: { content: capBytes(plainText(message), 2048), mentioned_list: mentioned, mentioned_mobile_list: mobiles },
      }, channel.headers);
    }
    return jsonRequest(channel.url, { msgtype: 'markdown', markdown: { content: capBytes(markdownText(message), 4096) } }, channel.headers);
  },
  accept: (answer) => acceptCode(answer, 'errcode', FINAL_ERRCODES, (json) => ({ code: json?.errcode, message: json?.errmsg })),
};
