// Where the workspace lives when nobody says: a "workspace" folder in the OS user-data folder, the same
// one Electron's app.getPath('userData') gives for this product name, so the desktop window and the
// browser mode share their datasets and runs. Must not import electron or renderer.
import os from 'node:os';
import { join } from 'node:path';

export const PRODUCT_NAME = 'Attention VGG';

export function defaultUserDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string {
  const home = os.homedir();
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', PRODUCT_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), PRODUCT_NAME);
}

export function defaultWorkspaceDir(userDataDir: string = defaultUserDataDir()): string {
  return join(userDataDir, 'workspace');
}
