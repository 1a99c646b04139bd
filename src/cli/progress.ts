// Progress of long work, on stderr (stdout stays the command's result): a bar on a
// terminal, cleared when the work is done; elsewhere (CI logs, pipes) a line at each
// tenth of the work, starting with "… " so a reader (or a test) can tell it from the
// command's own lines.
import cliProgress from 'cli-progress';

export interface ProgressDisplay {
  update(done: number, total: number, extra?: string): void;
  stop(): void;
}

export function progressDisplay(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} {extra}`, stream, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, extra = '') {
        if (!started) {
          bar.start(total, done, { extra });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { extra });
      },
      stop: () => started && bar.stop(),
    };
  }
  let lastDecile = -1;
  return {
    update(done, total, extra = '') {
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`… ${label}: ${done}/${total} ${extra}`.trimEnd() + '\n');
      }
    },
    stop() {},
  };
}
