/**
 * cmlops JupyterLab extension: the "Clinical MLOps" sidebar, a status bar item,
 * "Track this cell" (palette + notebook toolbar) and "Load cmlops in the kernel".
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';
import { postAPI, requestAPI } from './api';
import { HeadPoller } from './head-poller';
import { kernelState, loadCmlops } from './kernel';
import { packageViewOpener } from './package-view';
import { Sidebar } from './sidebar';
import { CmlopsStatus, StatusModel } from './statusbar';
import { isTracked, toggleTrack } from './track';
import { VerifyResult } from './types';

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<g class="jp-icon3" fill="#616161">
<circle cx="5" cy="6" r="2.5"/><circle cx="5" cy="18" r="2.5"/><rect x="10" y="9.5" width="5" height="5" rx="1"/>
<circle cx="20" cy="12" r="2.5"/>
<path d="M7 7l3.5 3.5M7 17l3.5-3.5M15 12h2.5" stroke="#616161" stroke-width="1.5" fill="none"/>
</g></svg>`;

export const cmlopsIcon = new LabIcon({ name: 'cmlops:lineage', svgstr: ICON_SVG });

const CMD = {
  open: 'cmlops:open-sidebar',
  track: 'cmlops:track-cell',
  load: 'cmlops:load-extension'
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'cmlops:plugin',
  description: 'Clinical MLOps: lineage, audit trail and report runs of the open notebook.',
  autoStart: true,
  requires: [ILabShell, INotebookTracker],
  optional: [ICommandPalette, IStatusBar],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    notebooks: INotebookTracker,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null
  ) => {
    // one poller of the chain head for the sidebar and the status bar
    const poller = new HeadPoller(async () => (await requestAPI<{ seq: number }>('head')).seq);
    const sidebar = new Sidebar(packageViewOpener(shell), poller);
    sidebar.title.icon = cmlopsIcon;
    sidebar.title.caption = 'Clinical MLOps';
    shell.add(sidebar, 'right', { rank: 600 });

    const follow = () => sidebar.setNotebook(notebooks.currentWidget?.context.path ?? '');
    notebooks.currentChanged.connect(follow);
    notebooks.widgetAdded.connect((_, panel) => {
      let previous = panel.context.path;
      panel.context.pathChanged.connect((_, path) => {
        sidebar.lineage.noteRename(previous, path);
        previous = path;
        follow();
      });
    });
    follow();

    app.commands.addCommand(CMD.open, {
      label: 'Open the Clinical MLOps sidebar',
      execute: () => shell.activateById(sidebar.id)
    });
    app.commands.addCommand(CMD.track, {
      label: 'Track this cell',
      caption: 'Toggle %%cmlops_track on the selected code cell',
      icon: cmlopsIcon,
      isToggled: () => {
        const cell = notebooks.activeCell;
        return !!cell && cell.model.type === 'code' && isTracked(cell.model.sharedModel.getSource());
      },
      isEnabled: () => notebooks.activeCell?.model.type === 'code',
      execute: () => {
        const cell = notebooks.activeCell;
        if (cell && cell.model.type === 'code') {
          const shared = cell.model.sharedModel;
          shared.setSource(toggleTrack(shared.getSource()));
          app.commands.notifyCommandChanged(CMD.track);
        }
      }
    });
    app.commands.addCommand(CMD.load, {
      label: 'Load cmlops in the active kernel',
      isEnabled: () => !!notebooks.currentWidget?.sessionContext.session?.kernel,
      execute: async () => {
        const kernel = notebooks.currentWidget?.sessionContext.session?.kernel;
        if (kernel) {
          const error = await loadCmlops(kernel);
          if (error) {
            console.warn('cmlops: %load_ext cmlops failed:', error);
          }
          await refreshStatus();
        }
      }
    });
    notebooks.activeCellChanged.connect(() => app.commands.notifyCommandChanged(CMD.track));
    if (palette) {
      for (const command of Object.values(CMD)) {
        palette.addItem({ command, category: 'Clinical MLOps' });
      }
    }
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel) => {
        const button = new ToolbarButton({
          icon: cmlopsIcon,
          label: 'Track',
          tooltip: 'Track this cell (toggle %%cmlops_track)',
          onClick: () => void app.commands.execute(CMD.track)
        });
        button.addClass('cmlops-track-button');
        panel.toolbar.insertItem(10, 'cmlopsTrack', button);
        return button;
      }
    });

    // Status bar: kernel state on kernel/idle changes; chain status when the shared
    // poller sees the head move (a kernel going idle pokes it: a cell may have written).
    const model: StatusModel = { loaded: null, autotrack: false, chain: 'unknown', kernelDead: false };
    const item = new CmlopsStatus(() => shell.activateById(sidebar.id));
    poller.subscribe({
      changed: async () => {
        try {
          const result = await postAPI<VerifyResult>('verify');
          model.chain = result.ok ? 'ok' : 'broken';
        } catch {
          model.chain = 'error';
        }
        item.render(model);
      },
      failed: () => {
        model.chain = 'error';
        item.render(model);
      }
    });
    async function refreshKernel(): Promise<void> {
      const kernel = notebooks.currentWidget?.sessionContext.session?.kernel;
      try {
        if (kernel && kernel.status === 'idle') {
          const state = await kernelState(kernel);
          model.loaded = state.loaded;
          model.autotrack = state.autotrack;
        } else if (!kernel || kernel.status === 'dead') {
          model.loaded = null;
        }
        model.kernelDead = kernel?.status === 'dead';
      } catch {
        model.loaded = null;
      }
      item.render(model);
    }
    async function refreshStatus(): Promise<void> {
      await refreshKernel();
      await poller.poke();
    }
    let pending = 0;
    const soon = () => {
      window.clearTimeout(pending);
      pending = window.setTimeout(() => void refreshStatus(), 500);
    };
    notebooks.currentChanged.connect(soon);
    notebooks.widgetAdded.connect((_, panel) => {
      panel.sessionContext.statusChanged.connect((_, status) => {
        if (status === 'idle' && panel === notebooks.currentWidget) {
          soon();
        }
      });
      panel.sessionContext.kernelChanged.connect(soon);
    });
    if (statusBar) {
      statusBar.registerStatusItem('cmlops:status', {
        item,
        align: 'left',
        rank: 4,
        isActive: () => true
      });
    }
    soon();
    poller.start();
    // Kernel state of kernels that started before this page or changed state unseen
    // (a silent kernel request; the server is polled by the shared head poller only).
    window.setInterval(() => {
      if (!document.hidden) {
        void refreshKernel();
      }
    }, 10000);
  }
};

export default plugin;
