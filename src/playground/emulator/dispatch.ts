// One Bot API call end to end, as Telegram runs it: injected faults, flood limits, the method, the call log.
import { CallLog, chatIdOf } from './calls.js';
import { Faults } from './faults.js';
import { callMethod, methodName } from './methods/index.js';
import type { Params } from './params.js';
import type { BotRecord, EmulatorState } from './state.js';

export class Dispatcher {
  readonly faults = new Faults();
  readonly calls = new CallLog();

  /** A call that arrived over HTTP for a known method: latency and scripted failures, flood limits, the method. */
  async call(state: EmulatorState, bot: BotRecord, method: string, params: Params, signal: AbortSignal): Promise<unknown> {
    const chatId = chatIdOf(params);
    try {
      await this.faults.beforeCall(method);
      this.faults.checkRateLimits(bot.id, method, chatId);
      const result = await callMethod(state, bot, method, params, signal);
      this.calls.record(method, chatId);
      return result;
    } catch (error) {
      this.calls.record(method, chatId, error);
      throw error;
    }
  }

  /**
   * A method the bot returned in its webhook response ("webhook reply"). Flood limits apply; scripted
   * failures and latency do not (they script answers the bot would read, and nobody reads this one).
   */
  async webhookReply(state: EmulatorState, bot: BotRecord, method: string, params: Params): Promise<void> {
    const name = methodName(method) ?? method;
    const chatId = chatIdOf(params);
    try {
      this.faults.checkRateLimits(bot.id, name, chatId);
      await callMethod(state, bot, name, params);
      this.calls.record(name, chatId);
    } catch (error) {
      this.calls.record(name, chatId, error);
      throw error;
    }
  }
}
