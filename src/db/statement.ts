/**
 * Statements whose text depends only on their shape, for the flow service's hot path. Drizzle's `sql` builds a tree of
 * objects on every call and walks it into a text and a parameter list: for a command's write, dozens of
 * fragments and tens of kilobytes of garbage per command, for a text that is the same whenever the write has
 * the same parts. A `q` piece only records its template and its values; `statement` renders the text once per
 * shape (which templates, nested how) and afterwards only collects the values. Drizzle still runs it
 * (`db.execute`): the drivers, the transaction and the logging see a statement like any other.
 */
import { SQL } from 'drizzle-orm';

/** Static text around values: each value is a parameter, or a piece of the statement itself. */
export class Piece {
  constructor(
    readonly strings: TemplateStringsArray,
    readonly values: readonly unknown[],
  ) {}
}

/**
 * A piece of a statement, written like drizzle's `sql` tag: `${value}` is one parameter, `${q`…`}` is text.
 * Unlike drizzle's tag, an array is one parameter too (give it as a literal with a cast: `arrays.ts`), and
 * nothing is left out: an `undefined` reaches the driver, which refuses it.
 */
export function q(strings: TemplateStringsArray, ...values: unknown[]): Piece {
  return new Piece(strings, values);
}

/** A statement drizzle runs as it was made: `toQuery` gives its text and parameters. */
class Built extends SQL {
  constructor(private readonly built: { sql: string; params: unknown[] }) {
    super([]);
  }

  override toQuery(): { sql: string; params: unknown[] } {
    return this.built;
  }
}

/** A number for each template (the array of a call site's template is the same object on every call). */
const templateIds = new WeakMap<TemplateStringsArray, number>();
let templates = 0;
/**
 * Texts by shape: a shape is which templates, nested how, so the same shape is always the same text. The
 * statements made here have a few shapes each (which parts a write has); past `MAX_SHAPES` a text is made anew.
 */
const texts = new Map<string, string>();
const MAX_SHAPES = 1_000;

/** The shape of `piece`, its parameters pushed to `params` in the order the text numbers them. */
function collect(piece: Piece, params: unknown[]): string {
  let id = templateIds.get(piece.strings);
  if (id === undefined) {
    id = templates++;
    templateIds.set(piece.strings, id);
  }
  let shape = `${id}(`;
  for (const value of piece.values) {
    if (value instanceof Piece) shape += collect(value, params);
    else {
      params.push(value);
      shape += '$';
    }
    shape += ',';
  }
  return `${shape})`;
}

function render(piece: Piece, counter: { n: number }): string {
  let text = piece.strings[0] ?? '';
  for (let i = 0; i < piece.values.length; i++) {
    const value = piece.values[i];
    text += value instanceof Piece ? render(value, counter) : `$${++counter.n}`;
    text += piece.strings[i + 1] ?? '';
  }
  return text;
}

/** `piece` as a statement for drizzle's `execute`. */
export function statement(piece: Piece): SQL {
  const params: unknown[] = [];
  const shape = collect(piece, params);
  let text = texts.get(shape);
  if (text === undefined) {
    text = render(piece, { n: 0 });
    if (texts.size < MAX_SHAPES) texts.set(shape, text);
  }
  return new Built({ sql: text, params });
}

/**
 * Fixed text as a piece, for a module's constants (a list of statuses, say): every call makes a shape of its
 * own, so never call it per statement.
 */
export function fixed(text: string): Piece {
  const strings = Object.freeze(Object.assign([text], { raw: Object.freeze([text]) }));
  return new Piece(strings, []);
}

/** `pieces` separated by commas (at least one). */
export function commaSeparated(pieces: readonly Piece[]): Piece {
  let list = pieces[0] ?? q``;
  for (const piece of pieces.slice(1)) list = q`${list}, ${piece}`;
  return list;
}
