import net from 'node:net';

/**
 * A TCP proxy in front of PostgreSQL that counts network round trips: a round trip starts each
 * time the client sends after the server last spoke (or for the first time) on a connection.
 * Several writes of one pipelined batch count once; so do several packets of one reply.
 */
export interface RoundTripProxy {
  readonly port: number;
  /** Round trips so far, over every connection. */
  roundTrips(): number;
  close(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }): Promise<RoundTripProxy> {
  let trips = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let clientTurn = false;
    client.on('data', (chunk) => {
      if (!clientTurn) {
        trips++;
        clientTurn = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      clientTurn = false;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no port');
  return {
    port: address.port,
    roundTrips: () => trips,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
