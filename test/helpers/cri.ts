// A small client of Kubernetes' CRI (runtime.v1 RuntimeService) over containerd's socket, with
// @grpc/grpc-js and the project's own subset of the API (cri/runtime-v1.proto): what the kubelet
// does to run a pod, one call at a time.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';

const PROTO = join(import.meta.dirname, 'cri/runtime-v1.proto');

export interface ContainerStatus {
  id: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
  exit_code: number;
  reason: string;
  message: string;
  log_path: string;
}

export interface Cri {
  /** one RuntimeService call; rejects with the gRPC status and containerd's message */
  call<T = Record<string, unknown>>(method: string, request: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  close(): void;
}

type Callback = (err: grpc.ServiceError | null, response: unknown) => void;
type Method = (request: unknown, options: grpc.CallOptions, callback: Callback) => void;

export function criClient(socket: string): Cri {
  const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: { v1: { RuntimeService: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client } };
  };
  const client = new loaded.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  return {
    call<T>(method: string, request: Record<string, unknown>, timeoutMs = 60_000): Promise<T> {
      const fn = (client as unknown as Record<string, Method>)[method];
      if (typeof fn !== 'function') throw new Error(`no CRI method ${method}`);
      return new Promise<T>((resolve, reject) => {
        fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err, response) => {
          if (err) reject(new Error(`CRI ${method}: ${err.details || err.message}`));
          else resolve(response as T);
        });
      });
    },
    close: () => client.close(),
  };
}
