import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'cmlops:sidebar',
  description: 'Clinical MLOps sidebar',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, shell: ILabShell) => {
    const w = new Widget();
    w.id = 'cmlops-sidebar';
    w.title.caption = 'Clinical MLOps';
    w.title.label = 'MLOps';
    w.node.textContent = 'Clinical MLOps';
    shell.add(w, 'right', { rank: 600 });
  }
};

export default plugin;
