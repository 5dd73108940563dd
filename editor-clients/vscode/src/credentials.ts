/**
 * Passwords and tokens: kept in VS Code's SecretStorage, handed to the daemon with
 * livy/setCredentials, never written to settings, initializationOptions or any log.
 */
import type * as vscode from 'vscode';
import type { SetCredentialsParams } from './protocol.generated';

export interface StoredCredentials {
  username?: string;
  password?: string;
  token?: string;
}

const PREFIX = 'livy.credentials:';
const INDEX = 'livy.credentials.index';

/** The secret-storage key of a profile ('' is the configured default profile). */
export function secretKey(profile: string): string {
  return PREFIX + profile;
}

export class CredentialStore {
  constructor(private readonly secrets: vscode.SecretStorage, private readonly state: vscode.Memento) {}

  profiles(): string[] {
    return this.state.get<string[]>(INDEX, []);
  }

  async get(profile: string): Promise<StoredCredentials | undefined> {
    const raw = await this.secrets.get(secretKey(profile));
    if (!raw) {
      return undefined;
    }
    try {
      return JSON.parse(raw) as StoredCredentials;
    } catch {
      return undefined;
    }
  }

  async set(profile: string, creds: StoredCredentials): Promise<void> {
    await this.secrets.store(secretKey(profile), JSON.stringify(creds));
    const idx = new Set(this.profiles());
    idx.add(profile);
    await this.state.update(INDEX, [...idx]);
  }

  async delete(profile: string): Promise<void> {
    await this.secrets.delete(secretKey(profile));
    await this.state.update(INDEX, this.profiles().filter((p) => p !== profile));
  }
}

/** livy/setCredentials params for a stored entry ('' profile: the daemon's active one). */
export function credentialParams(profile: string, c: StoredCredentials): SetCredentialsParams {
  return {
    profile: profile || null,
    username: c.username || null,
    password: c.password || null,
    token: c.token || null,
  };
}
