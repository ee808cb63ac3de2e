import type { UserFromGetMe } from 'telegraf/types';

/** The bot the Bot API stand-ins answer `getMe` with (imported without starting the stub). */
export const BOT_INFO: UserFromGetMe = {
  id: 7_000_000_001,
  is_bot: true,
  first_name: 'Requests',
  username: 'orb_bench_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};
