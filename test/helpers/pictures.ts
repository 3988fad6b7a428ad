// Tiny pictures for tests that need a folder of real images to classify: one flat colour each.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

/** Writes `<folder>/p0.png`, `p1.png`, ... (40×40, one per colour) into a new folder; returns the folder. */
export async function writeColourPictures(folder: string, colours = ['#c03030', '#3030c0']): Promise<string> {
  await mkdir(folder);
  for (const [i, colour] of colours.entries())
    await sharp({ create: { width: 40, height: 40, channels: 3, background: colour } })
      .png()
      .toFile(join(folder, `p${i}.png`));
  return folder;
}
