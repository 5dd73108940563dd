/** Reading the livy.* settings (the only place that does). */
import * as vscode from 'vscode';
import type { LivySettings } from './api';

export interface ExtensionSettings extends LivySettings {
  daemonPath: string;
  daemonArgs: string[];
  username: string;
  revealOutput: 'always' | 'onError' | 'never';
}

export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration('livy');
  return {
    daemonPath: c.get<string>('daemonPath', ''),
    daemonArgs: c.get<string[]>('daemonArgs', []),
    profile: c.get<string>('profile', ''),
    url: c.get<string>('url', ''),
    auth: c.get<string>('auth', ''),
    username: c.get<string>('username', ''),
    caBundle: c.get<string>('caBundle', ''),
    kind: c.get<string>('kind', 'pyspark'),
    pollInterval: c.get<number>('pollInterval', 1),
    idlePollInterval: c.get<number>('idlePollInterval', 10),
    maxOutputBytes: c.get<number>('maxOutputBytes', 1_000_000),
    deleteSessionsOnExit: c.get<boolean>('deleteSessionsOnExit', false),
    showTracebacks: c.get<boolean>('showTracebacks', false),
    revealOutput: c.get<'always' | 'onError' | 'never'>('revealOutput', 'always'),
  };
}

/** Settings that only take effect when the daemon process starts again. */
export const RESTART_SETTINGS = ['livy.daemonPath', 'livy.daemonArgs'];

/** The daemon's command-line arguments. */
export function daemonArgs(s: ExtensionSettings): string[] {
  return ['--stdio', ...s.daemonArgs];
}
