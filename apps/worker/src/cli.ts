#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT } from './cli-error.js';
import { runImagesCommand, type ImagesCommandOptions } from './commands/run-images.js';
import { ENGINE_CHOICES } from './engines/engine.js';

const positiveInt = (name: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer.`);
  return n;
};

const EXIT_CODES_HELP = `
Exit codes: 0 all inputs succeeded; 3 the run finished but some inputs failed (each has an
error row); 1 a fatal error (weights, engine, output); 2 a wrong command line.`;

function imagesCommand(program: Command, kind: 'classify' | 'embed', summary: string, examples: string): void {
  program
    .command(kind)
    .summary(summary)
    .description(`${summary}.\nInputs are files, folders, globs (quoted), or - to read paths from standard input.\nRerunning with the same --out resumes: finished inputs are skipped.`)
    .argument('<inputs...>', 'files, folders, globs or -')
    .requiredOption('-o, --out <file>', kind === 'classify' ? 'results file: .jsonl or .csv' : 'results file: .jsonl (a row with the 2048 features per image)')
    .option('-r, --recursive', 'walk folders recursively', false)
    .option('-k, --top-k <n>', 'classes per image', positiveInt('--top-k'), 5)
    .option('-b, --batch-size <n>', 'images per inference batch', positiveInt('--batch-size'), 8)
    .option('-w, --weights <source>', "'imagenet', a .h5 / model.json path or URL, or 'none' (random, for testing)", 'imagenet')
    .addOption(new Option('-e, --engine <engine>', 'inference engine').choices(ENGINE_CHOICES).default('auto'))
    .option('-t, --threads <n>', 'worker threads of the wasm engine (default: CPUs)', positiveInt('--threads'))
    .option('--shard <i/n>', 'process shard i of n (also read from Kubernetes Indexed Jobs and Slurm arrays)')
    .addOption(new Option('--resize <mode>', "squash (Keras' load_img) or center-crop").choices(['squash', 'center-crop']).default('squash'))
    .option('--image-size <n>', 'model input side (299 for imagenet weights)', positiveInt('--image-size'), 299)
    .option('-q, --quiet', 'no progress output', false)
    .addOption(new Option('--log-format <format>', 'progress and summary format').choices(['text', 'json']).default('text'))
    .addHelpText('after', `\nExamples:\n${examples}\n${EXIT_CODES_HELP}`)
    .action(async (inputs: string[], options: ImagesCommandOptions) => {
      process.exitCode = await runImagesCommand(kind, inputs, options);
    });
}

export function buildProgram(): Command {
  const program = new Command()
    .name('xception')
    .description("Keras' Xception (ImageNet) over folders of photos, from a laptop to a GPU cluster.")
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);
  imagesCommand(program, 'classify', 'Classify images into the 1000 ImageNet classes', [
    '  xception classify ~/Pictures --recursive --out tags.jsonl',
    "  xception classify 'photos/**/*.jpg' --out tags.csv --top-k 3",
    '  find /data -name "*.jpg" | xception classify - --out tags.jsonl --log-format json',
    '  xception classify /data --recursive --out tags.jsonl --shard 0/4',
  ].join('\n'));
  imagesCommand(program, 'embed', "Write each image's 2048-d pooled features, for similarity search", [
    '  xception embed ~/Pictures --recursive --out features.jsonl',
  ].join('\n'));
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride((error) => {
    throw error.exitCode === 0 ? error : new CliError(error.code, error.message.replace(/^error: /, ''), EXIT.usage);
  });
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if ((error as { exitCode?: number }).exitCode === 0) return; // --help, --version
    if (error instanceof CliError) {
      if (error.exitCode !== EXIT.usage || !error.message.startsWith('(')) process.stderr.write(`xception: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    // Typed errors from the packages carry a code and a one-sentence message: no stack trace.
    const e = error as { code?: unknown; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('ERR_')) {
      process.stderr.write(`xception: ${e.message}\n`);
      process.exitCode = EXIT.error;
      return;
    }
    process.stderr.write(`xception: unexpected error, please report it: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.error;
  }
}

await main(process.argv);
