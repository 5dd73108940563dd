/** Reading the livy.* settings (the only place that does). */
import * as vscode from 'vscode';
import type { LivySettings } from './api';

export interface ExtensionSettings extends LivySettings {
  daemonPath: string;
  daemonArgs: string[];
  auth: string;
  username: string;
  caBundle: string;
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
export const RESTART_SETTINGS = ['livy.daemonPath', 'livy.daemonArgs', 'livy.auth', 'livy.caBundle'];

/**
 * The daemon's environment and extra arguments for settings livyd reads only from its environment
 * (LIVY_AUTH, SSL_CERT_FILE). A shared daemon started by another window would not see them, so
 * with any of them set the daemon runs --standalone.
 */
export function daemonProcess(s: ExtensionSettings): { args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {};
  if (s.auth) {
    env.LIVY_AUTH = s.auth;
  }
  if (s.caBundle) {
    env.SSL_CERT_FILE = s.caBundle;
  }
  const args = ['--stdio', ...s.daemonArgs];
  if (Object.keys(env).length && !args.includes('--standalone')) {
    args.push('--standalone');
  }
  return { args, env };
}
