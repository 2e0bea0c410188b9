/** What the active kernel says about cmlops: loaded? autotrack on? Asked silently. */
import { Kernel, KernelMessage } from '@jupyterlab/services';

export interface KernelState {
  loaded: boolean;
  autotrack: boolean;
}

/**
 * The kernel's public, documented API (``cmlops.kernel_state()``, docs/jupyterlab.md),
 * evaluated without touching the user's history and without importing cmlops into a
 * kernel that has not imported it. Its text/plain is JSON.
 */
const STATE =
  "(lambda m: m.kernel_state() if m else None)(__import__('sys').modules.get('cmlops'))";

export async function kernelState(kernel: Kernel.IKernelConnection): Promise<KernelState> {
  const future = kernel.requestExecute({
    code: '',
    silent: true,
    store_history: false,
    user_expressions: { state: STATE }
  });
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  const value = (reply.content as any).user_expressions?.state;
  let state: any = null;
  if (value?.status === 'ok') {
    state = value.data?.['application/json'] ?? null;
    if (state === null) {
      try {
        state = JSON.parse(value.data?.['text/plain'] ?? 'null');
      } catch {
        state = null; // ``None`` (cmlops not imported) or an older cmlops
      }
    }
  }
  return { loaded: state?.loaded === true, autotrack: state?.autotrack === true };
}

/** Runs ``%load_ext cmlops`` in the kernel (shown nowhere; errors come back as text). */
export async function loadCmlops(kernel: Kernel.IKernelConnection): Promise<string> {
  let error = '';
  const future = kernel.requestExecute({
    code: '%load_ext cmlops',
    silent: false,
    store_history: false
  });
  future.onIOPub = msg => {
    if (msg.header.msg_type === 'error') {
      const c = msg.content as KernelMessage.IErrorMsg['content'];
      error = `${c.ename}: ${c.evalue}`;
    }
  };
  await future.done;
  return error;
}
