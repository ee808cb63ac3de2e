// The emulator's HTTP server: the Bot API (/bot<token>/<method>), file downloads (/file/bot<token>/<path>)
// and the emulator's own JSON API (/_emulator/..., see webapi.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BotApiCall } from './calls.js';
import { EmulatedUser } from './client.js';
import { Dispatcher } from './dispatch.js';
import { notFound, unauthorized } from './errors.js';
import type { EmulatorDump } from './dump.js';
import type { Faults } from './faults.js';
import { EmulatedGroup, type CreateGroupOptions } from './group-client.js';
import { sendApiError, sendBytes, sendJson } from './http-util.js';
import { methodName } from './methods/index.js';
import { readParams, type Params } from './params.js';
import { EmulatorState, type BotRecord, type CreateBotOptions, type CreateUserOptions } from './state.js';
import type { BotInfo, EmulatorEvent } from './types.js';
import { WebApi } from './webapi.js';

export interface EmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
}

export interface CreateEmulatedUserOptions extends CreateUserOptions {
  /** Token or username of the bot this user talks to; defaults to the first bot created. */
  bot?: string;
  /** Shared when the user presses a request_contact button. */
  phoneNumber?: string;
}

/** A running Telegram Bot API emulator. Create it with {@link startEmulator}. */
export class Emulator {
  /** Pass to Telegraf as `telegram: { apiRoot }`. */
  readonly apiRoot: string;
  /** Scripted failures, latency and flood limits for Bot API calls. */
  readonly faults: Faults;
  private readonly drivers = new Map<number, EmulatedUser>();
  private readonly groupDrivers = new Map<number, EmulatedGroup>();
  private readonly webApi: WebApi;
  private closing: Promise<void> | undefined;

  /** @internal Use {@link startEmulator}. */
  constructor(
    private readonly server: Server,
    private readonly state: EmulatorState,
    private readonly dispatcher: Dispatcher,
  ) {
    this.faults = dispatcher.faults;
    const { address, port } = server.address() as AddressInfo;
    this.apiRoot = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
    this.webApi = new WebApi({
      state,
      createBot: (options) => this.createBot(options),
      createUser: (options) => this.createUser(options),
      user: (id) => this.user(id),
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  /** Registers a bot; `token` defaults to a fresh "<id>:<secret>". */
  createBot(options: CreateBotOptions = {}): BotInfo {
    const bot = this.state.createBot(options);
    return { token: bot.token, id: bot.id, username: bot.username };
  }

  /** Creates a Telegram user and returns the driver for their private chat with the bot. */
  createUser(options: CreateEmulatedUserOptions): EmulatedUser {
    const { bot, phoneNumber, ...profile } = options;
    const info = this.state.createUser(profile);
    const driver = new EmulatedUser(this.state, info, bot, phoneNumber ?? `+1555${String(info.id).slice(-7)}`);
    this.drivers.set(info.id, driver);
    return driver;
  }

  user(id: number): EmulatedUser | undefined {
    return this.drivers.get(id);
  }

  /** Every user's driver, oldest first. */
  users(): EmulatedUser[] {
    return [...this.drivers.values()];
  }

  /**
   * Creates a group, supergroup or channel of `members` and returns its driver. It can hold one bot
   * (`options.bot`, default the first bot), which is not in it until {@link EmulatedGroup.addBot}.
   */
  createGroup(options: CreateGroupOptions): EmulatedGroup {
    const bot = options.bot === undefined ? this.state.bots()[0] : this.state.findBot(options.bot);
    if (!bot) throw new Error(`No bot ${options.bot ?? ''} for the group: call emu.createBot() first`);
    const members = options.members.map((member) => member.info);
    const record = this.state.createGroup(bot, { title: options.title, type: options.type, members });
    const driver = new EmulatedGroup(this.state, record);
    this.groupDrivers.set(driver.id, driver);
    return driver;
  }

  group(id: number): EmulatedGroup | undefined {
    return this.groupDrivers.get(id);
  }

  /** Every group's driver, oldest first. */
  groups(): EmulatedGroup[] {
    return [...this.groupDrivers.values()];
  }

  /**
   * Every Bot API call answered so far, in answering order (a long poll appears when it returns), failed ones
   * included: unknown tokens and methods, fault-injected failures, flood-limit refusals and webhook replies.
   * The log keeps the latest 100 000 calls.
   */
  calls(): BotApiCall[] {
    return this.dispatcher.calls.list();
  }

  /** Empties the call log. */
  clearCalls(): void {
    this.dispatcher.calls.clear();
  }

  /** Every user, bot, chat (groups too) and file as plain data (see {@link importState}). */
  exportState(): EmulatorDump {
    return this.state.exportDump();
  }

  /**
   * Restores what {@link exportState} returned in an earlier process, into an emulator with no bots or
   * users yet: same tokens, user ids, message ids, file ids, and update ids continuing. Every user gets
   * a driver talking to the first bot; every group gets its driver.
   */
  importState(dump: EmulatorDump): void {
    this.state.importDump(dump);
    for (const info of this.state.users()) {
      this.drivers.set(info.id, new EmulatedUser(this.state, info, undefined, `+1555${String(info.id).slice(-7)}`));
    }
    for (const record of this.state.groups()) {
      this.groupDrivers.set(record.chatId, new EmulatedGroup(this.state, record));
    }
  }

  /** Clears every chat (groups are removed), file and pending update, and removes every user but `keepUserIds`. */
  reset(keepUserIds: readonly number[] = []): void {
    this.state.reset(keepUserIds);
    for (const id of [...this.drivers.keys()]) if (!keepUserIds.includes(id)) this.drivers.delete(id);
    this.groupDrivers.clear();
  }

  /** The bytes of any file the emulator stores (sent by users or bots). */
  fileBytes(fileId: string): Buffer | undefined {
    return this.state.files.get(fileId)?.bytes;
  }

  /** Calls `listener` on every change (messages, edits, deletions, callbacks, chat actions); returns unsubscribe. */
  subscribe(listener: (event: EmulatorEvent) => void): () => void {
    return this.state.subscribe(listener);
  }

  /** Ends pending long polls, webhook deliveries and event streams, then stops the server. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state.close();
    this.webApi.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Let interrupted long polls flush their empty answers before cutting connections.
    await nextTurn();
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    try {
      const api = /^\/bot([^/]+)\/([^/]*)$/.exec(url.pathname);
      if (api) return await this.handleBotApi(api[1] ?? '', api[2] ?? '', req, res, url);
      const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
      if (download) return this.handleDownload(download[1] ?? '', download[2] ?? '', res);
      if (url.pathname.startsWith('/_emulator/')) return await this.webApi.handle(req, res, url);
      throw notFound();
    } catch (error) {
      sendApiError(res, error);
    }
  }

  private async handleBotApi(token: string, method: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const name = methodName(method);
    let bot: BotRecord | undefined;
    let params: Params;
    try {
      bot = this.state.botByToken(decodeURIComponent(token));
      if (!bot) throw unauthorized();
      if (name === undefined) throw notFound();
      params = await readParams(req, url);
    } catch (error) {
      this.dispatcher.calls.record(name ?? method, null, error);
      throw error;
    }
    const disconnected = new AbortController();
    res.on('close', () => disconnected.abort());
    const result = await this.dispatcher.call(this.state, bot, name, params, disconnected.signal);
    sendJson(res, 200, { ok: true, result });
  }

  private handleDownload(token: string, filePath: string, res: ServerResponse): void {
    if (!this.state.botByToken(decodeURIComponent(token))) throw unauthorized();
    const file = this.state.files.getByPath(decodeURIComponent(filePath));
    if (!file) throw notFound();
    sendBytes(res, file.bytes, 'application/octet-stream');
  }
}

/** Starts an emulator on a local port (random unless `port` is given). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const server = createServer();
  const dispatcher = new Dispatcher();
  const state: EmulatorState = new EmulatorState((bot, method, params) => dispatcher.webhookReply(state, bot, method, params));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new Emulator(server, state, dispatcher);
}
