// The playground page's own JSON API (/api/*): who is in the playground, adding clients, a client's side
// panel, reloading the catalogue, and starting over. Chats themselves go through the emulator's API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Locale } from '../../machines/definition.js';
import type { App } from '../app.js';
import type { EmulatedUser, Emulator } from './emulator/index.js';
import { localeOf } from '../ui/i18n.js';
import { Panels } from './panel.js';

export interface PlaygroundHost {
  readonly emulator: Emulator;
  readonly operator: EmulatedUser;
  readonly bot: { readonly username: string; readonly name: string };
  /** Locale of new clients and of request titles. */
  readonly locale: Locale;
  /** The running app; undefined while it starts. */
  app(): App | undefined;
  /** Why "Reset playground" is refused, if it is (it only wipes the embedded database). */
  readonly resetRefusal: string | null;
  reset(): Promise<void>;
}

export interface PersonView {
  readonly id: number;
  readonly name: string;
  readonly username: string | null;
  readonly languageCode: string | null;
}

/** Names for new clients, in turn. */
const NAMES: ReadonlyArray<readonly [string, string]> = [
  ['Anna', 'Petrova'],
  ['Boris', 'Ivanov'],
  ['Chloé', 'Martin'],
  ['Dmitri', 'Sokolov'],
  ['Elena', 'Kuznetsova'],
  ['Farid', 'Haddad'],
  ['Greta', 'Larsen'],
  ['Hiro', 'Tanaka'],
  ['Inès', 'Moreau'],
  ['Jonas', 'Weber'],
];
const MAX_BODY_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class PlaygroundApi {
  private panels: Panels | undefined;

  constructor(private readonly host: PlaygroundHost) {}

  /** Handles /api/*; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith('/api/')) return false;
    try {
      sendJson(res, 200, await this.route(req, url));
    } catch (error) {
      sendJson(res, error instanceof HttpError ? error.status : 500, { error: error instanceof Error ? error.message : String(error) });
    }
    return true;
  }

  private async route(req: IncomingMessage, url: URL): Promise<unknown> {
    const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/\d+(?=\/|$)/g, '/:id')}`;
    const id = Number(/\/(\d+)(?:\/|$)/.exec(url.pathname)?.[1]);
    switch (route) {
      case 'GET /api/state':
        return this.state();
      case 'POST /api/clients':
        return this.addClient(await readJson(req));
      case 'GET /api/clients/:id/panel': {
        if (!this.host.emulator.user(id) || id === this.host.operator.id) throw new HttpError(404, `no client ${id}`);
        const flow = Number(url.searchParams.get('flow'));
        return this.panelsOf(this.app()).of(id, Number.isSafeInteger(flow) && flow > 0 ? flow : undefined);
      }
      case 'POST /api/catalogue/reload':
        return this.reloadCatalogue();
      case 'POST /api/reset':
        if (this.host.resetRefusal) throw new HttpError(409, this.host.resetRefusal);
        await this.host.reset();
        return { ok: true };
      default:
        throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    }
  }

  private state(): unknown {
    const { emulator, operator, bot, locale } = this.host;
    const app = this.host.app();
    return {
      bot,
      locale,
      operator: personView(operator),
      clients: emulator
        .users()
        .filter((user) => user.id !== operator.id)
        .map(personView),
      catalogue: app ? app.catalogue().requests.map((r) => ({ id: r.id, title: r.title[locale] })) : [],
      database: app?.database.description ?? null,
      resetRefusal: this.host.resetRefusal,
    };
  }

  /** A new emulated user who opens the bot with /start (with `body.start`: an invite's code), as a client would. */
  private async addClient(body: Record<string, unknown>): Promise<PersonView> {
    const { emulator, operator } = this.host;
    const [first, last] = NAMES[emulator.users().filter((u) => u.id !== operator.id).length % NAMES.length] ?? ['Client', ''];
    const firstName = stringOr(body.firstName, first).slice(0, 64);
    const lastName = stringOr(body.lastName, typeof body.firstName === 'string' ? '' : last).slice(0, 64);
    const languageCode = stringOr(body.languageCode, this.host.locale).slice(0, 8);
    // An invite link clicked on the page: the new client redeems it, as opening t.me/<bot>?start=<code> would.
    const start = typeof body.start === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(body.start) ? body.start : null;
    const user = emulator.createUser({ firstName, ...(lastName ? { lastName } : {}), languageCode });
    await user.send(start === null ? '/start' : `/start ${start}`);
    return personView(user);
  }

  private async reloadCatalogue(): Promise<{ ok: true; count: number } | { ok: false; errors: string[] }> {
    try {
      return await this.app().reloadCatalogue();
    } catch (error) {
      return { ok: false, errors: [error instanceof Error ? error.message : String(error)] };
    }
  }

  private app(): App {
    const app = this.host.app();
    if (!app) throw new HttpError(503, 'the bot is starting');
    return app;
  }

  private panelsOf(app: App): Panels {
    this.panels ??= new Panels({
      flows: app.flows,
      locale: this.host.locale,
      localeOf: (id) => localeOf(this.host.emulator.user(id)?.info.language_code, this.host.locale),
      nameOf: (id) => nameOf(this.host.emulator.user(id)),
    });
    return this.panels;
  }
}

function personView(user: EmulatedUser): PersonView {
  return {
    id: user.id,
    name: nameOf(user) ?? String(user.id),
    username: user.info.username ?? null,
    languageCode: user.info.language_code ?? null,
  };
}

function nameOf(user: EmulatedUser | undefined): string | undefined {
  return user ? [user.info.first_name, user.info.last_name].filter(Boolean).join(' ') : undefined;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'expected a JSON object');
  return value as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}
