/** Channel type → module. A type missing here fails to compile (`satisfies`). */
import { alertmanager } from './alertmanager.ts';
import type { ChannelModule, ChannelType } from './channel.ts';
import { dingtalk } from './dingtalk.ts';
import { feishu } from './feishu.ts';
import { pagerduty } from './pagerduty.ts';
import { slack } from './slack.ts';
import { webhook } from './webhook.ts';
import { wecom } from './wecom.ts';

export const CHANNELS = { webhook, slack, dingtalk, wecom, feishu, pagerduty, alertmanager } satisfies Record<ChannelType, ChannelModule>;

export function channelModule(type: ChannelType): ChannelModule {
  return CHANNELS[type];
}
