/** What the active kernel says about cmlops: loaded? autotrack on? Asked silently. */
import { Kernel, KernelMessage } from '@jupyterlab/services';

export interface KernelState {
  loaded: boolean;
  autotrack: boolean;
}

/** Python expressions evaluated in the kernel without touching the user's history. */
const SESSION =
  "(lambda m: m.shell_session(get_ipython()) if m else None)" +
  "(__import__('sys').modules.get('cmlops.capture.magics'))";
const EXPRESSIONS = {
  loaded: `${SESSION} is not None`,
  autotrack: `bool(getattr(${SESSION}, 'autotrack', False))`
};

export async function kernelState(kernel: Kernel.IKernelConnection): Promise<KernelState> {
  const future = kernel.requestExecute({
    code: '',
    silent: true,
    store_history: false,
    user_expressions: EXPRESSIONS
  });
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  const content = reply.content as any;
  const read = (name: string) => {
    const value = content.user_expressions?.[name];
    return value?.status === 'ok' && value.data?.['text/plain'] === 'True';
  };
  return { loaded: read('loaded'), autotrack: read('autotrack') };
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
