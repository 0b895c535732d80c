//! `recur classify train`: a new run or `--resume`, the data and its splits, and a single
//! model's training through the engine with the progress bar, Ctrl-C and the checkpoint
//! (`cli::fit`). Several models (`--folds`, `--ensemble`) train through
//! `recur::tasks::classify::{members, cv}`; this file prints what they tell.
//!
//! Every draw comes from `--seed` in one order (the folds, each fold's split and members' seeds,
//! the final split, the final members' seeds; a member's seed draws its own split if
//! `--split-per-member`, then its weights, then its batch order and word dropout), so `--resume`
//! rebuilds the same texts, splits and vocabulary from the data and the recorded settings, and
//! checks the vocabulary against `vocab.txt` before going on from the checkpoint.

use super::args::{check_args, check_resume_flags, given_flags, TrainArgs};
use super::several::Several;
use super::{print_confusion, DEFAULT_PATIENCE};
use crate::cli::fit::{fit, resume_state, Describe};
use crate::cli::flags::TensorboardFlags;
use recur::data::tsv::{read_labelled, Classes, TextEncoding};
use recur::data::vectors::{BUILTIN, BUILTIN_DIM};
use recur::data::Tokenizer;
use recur::io::run_dir::{RunDir, TaskKind, METRICS, MODEL, RESULT, VOCAB};
use recur::io::train_state::CHECKPOINT;
use recur::models::{Classifier, ClassifierConfig};
use recur::optim::{LrRule, Optimizer};
use recur::tasks::classify::baselines::{fit_and_test, BaselineScores};
use recur::tasks::classify::cv::{cross_validate, CvResult, FoldResult, Spread};
use recur::tasks::classify::members::{
    evaluate_members, holdout, holdout_figures, train_final, Holdout, KeptMember, Member, Start, Trained,
};
use recur::tasks::classify::pretrained::PretrainedEncoder;
use recur::tasks::classify::run::{
    write_result, ClassifyRunConfig, SplitBaselines, TrainSettings, CONFIG, CV,
};
use recur::tasks::classify::texts::{recorded_texts, Plan, Sources};
use recur::tensor::Rng;
use recur::train::{EpochStats, Outcome, TrainState};
use recur::{Error, Result};
use std::path::{Path, PathBuf};

pub fn run(args: TrainArgs) -> Result<()> {
    match args.resume.clone() {
        Some(dir) => resume(&dir, &args),
        None => start(args),
    }
}

fn start(args: TrainArgs) -> Result<()> {
    check_args(&args)?;
    let vectors = vectors_of(&args)?;
    let data = args.data.clone().expect("clap requires --data without --resume");
    let examples = read_labelled(&data)?;
    let classes = Classes::for_training(&data, &examples)?;
    // Checked before any fold is trained: each fold needs texts of its own to test on.
    if args.folds > examples.len() {
        return Err(Error::file(
            &data,
            format!(
                "has {} texts, too few for --folds {}; expected at most one fold a text",
                examples.len(),
                args.folds
            ),
        ));
    }
    let tokenizer = match &args.init_from {
        Some(dir) => PretrainedEncoder::tokenizer_for(RunDir::open(dir)?.read_config()?.tokenizer),
        None => Tokenizer::Text,
    };
    let encoding = TextEncoding { tokenizer, max_len: args.max_len, keep: args.keep };
    let path = |p: &PathBuf| p.display().to_string();
    let settings = TrainSettings {
        data: path(&data),
        valid: args.valid.as_ref().map(path),
        valid_split: args.valid_split,
        test: args.test.as_ref().map(path),
        folds: args.folds,
        max_vocab: args.max_vocab,
        min_count: args.min_count,
        optimizer: args.optimizer,
        engine: args.schedule.engine(args.epochs, args.lr, args.clip, LrRule::CONSTANT, DEFAULT_PATIENCE)?,
        momentum: args.momentum,
        batch_size: args.batch_size,
        word_dropout: args.word_dropout,
        split_per_member: args.split_per_member,
        extra: args.extra.iter().map(path).collect(),
        init_from: args.init_from.as_ref().map(path),
        vectors,
        seed: args.seed,
    };
    let sources = Sources::read(&settings, &encoding, &classes)?;
    let multi = settings.folds >= 2 || args.ensemble > 1;
    if let (true, Some(dir)) = (multi, &args.tensorboard.tensorboard) {
        // Each model logs to a folder of its own in DIR (`several.rs`): a DIR that cannot be made
        // fails here, before the run directory is.
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create", e))?;
    }

    let run = RunDir::create(&crate::cli::choose_out_dir(args.out.as_deref(), args.overwrite, "classify")?)?;
    run.remove_replaced(&[MODEL, METRICS, RESULT, CV, VOCAB, CONFIG, CHECKPOINT, "loss.png", "loss.svg"])?;
    KeptMember::clear(&run)?;
    println!(
        "{}: {} texts, {} classes ({})",
        data.display(),
        sources.all.len(),
        classes.len(),
        classes.names().join(", ")
    );
    let mut seeds = Rng::new(settings.seed);
    let mut several = Several::new(settings.folds, &args.tensorboard);
    let template = ClassifierConfig {
        cell: args.cell,
        vocab_size: 1,
        embed_size: args.embed_size,
        hidden_size: args.hidden_size,
        num_layers: args.layers,
        bidirectional: args.bidirectional,
        embed_dropout: args.embed_dropout,
        dropout: args.dropout,
        num_classes: classes.len(),
        pool: args.pool,
    };
    let template = match (&sources.encoder, &sources.vectors) {
        (Some(encoder), _) => encoder.shape(&template)?,
        (None, Some(vectors)) => {
            if given_flags().iter().any(|id| id == "embed_size") && args.embed_size != vectors.dim {
                return Err(Error::msg(format!(
                    "--vectors {}: its vectors have {} numbers each; leave out --embed-size {} or make it {}",
                    vectors.path.display(),
                    vectors.dim,
                    args.embed_size,
                    vectors.dim
                )));
            }
            ClassifierConfig { embed_size: vectors.dim, ..template }
        }
        (None, None) => template,
    };
    let mut metrics = Vec::new();
    if settings.folds >= 2 {
        let k = settings.folds;
        println!(
            "{k}-fold cross-validation (stratified, seed {}): each fold's model trains on the other folds \
             less {} for early stopping",
            settings.seed, settings.valid_split
        );
        let (cv, lines) =
            cross_validate(&settings, &template, args.ensemble, &sources, &mut seeds, &run, &mut several)?;
        let valid_mean = cv.per_fold.iter().map(|f| f.valid_accuracy).sum::<f64>() / k as f64;
        println!(
            "{k}-fold cross-validated accuracy: {:.4} +- {:.4} (mean +- std over folds; min {:.3}, max {:.3}; \
             mean validation accuracy {valid_mean:.4})",
            cv.mean_accuracy, cv.std_accuracy, cv.min_accuracy, cv.max_accuracy
        );
        print_spreads(&cv);
        print_confusion("every fold's test texts", &classes, &cv.confusion);
        cv.write(&run)?;
        metrics = lines;
    }

    let plan = Plan::new(&settings, &sources, &mut seeds)?;
    let model = ClassifierConfig { vocab_size: plan.vocab.len(), ..template };
    let config = ClassifyRunConfig {
        task: TaskKind::Classify,
        model,
        text: encoding,
        classes,
        members: args.ensemble,
        train: settings,
    };
    config.write(&run)?;
    run.write_vocab(&plan.vocab)?;
    describe_training(&config, &plan, &sources);
    if multi {
        if config.members > 1 && config.train.folds < 2 {
            println!(
                "each member is kept as it finishes: if the run stops, go on with: recur classify train --resume {}",
                run.root.display()
            );
        }
        let trained = train_final(&config, &plan, &sources, &mut seeds, &run, metrics, &mut several)?;
        return finish(&run, &config, &plan, &sources, trained);
    }
    train_single(&run, &config, &plan, &sources, &mut seeds, None, &args.tensorboard)
}

/// What `--vectors` means for a new run (see its help): the built-in vectors, a file, or none.
fn vectors_of(args: &TrainArgs) -> Result<Option<String>> {
    let embed_size_given = given_flags().iter().any(|id| id == "embed_size");
    match (args.vectors.as_deref(), &args.init_from) {
        (Some("none"), _) => Ok(None),
        (Some(_), Some(dir)) => Err(Error::msg(format!(
            "--init-from {}: the language model's embedding is the start; leave out --vectors",
            dir.display()
        ))),
        (None, Some(_)) => Ok(None),
        (None, None) if embed_size_given && args.embed_size != BUILTIN_DIM => Ok(None),
        (None, None) => Ok(Some(BUILTIN.to_string())),
        (Some(source), None) => Ok(Some(source.to_string())),
    }
}

/// `--resume DIR`: the recorded settings (with the flags allowed beside it), the same data and
/// splits, the model and the engine's state from the checkpoint.
fn resume(dir: &Path, args: &TrainArgs) -> Result<()> {
    check_resume_flags()?;
    args.tensorboard.check()?;
    let run = RunDir::open(dir)?;
    let mut config = ClassifyRunConfig::read(&run)?;
    if config.train.folds >= 2 {
        return Err(Error::msg(format!(
            "{}: a cross-validation (--folds {}) keeps no checkpoint and cannot be resumed; run the command again \
             to start over",
            run.root.display(),
            config.train.folds,
        )));
    }
    let ensemble = config.members > 1;
    if ensemble {
        if run.path(RESULT).exists() {
            return Err(Error::msg(format!(
                "{}: the ensemble of {} finished (result.json); start a new run to train it differently",
                run.root.display(),
                config.members
            )));
        }
        let given = given_flags();
        let training: Vec<String> = ["epochs", "lr", "patience", "on_nan"]
            .iter()
            .filter(|id| given.iter().any(|g| g == *id))
            .map(|id| format!("--{}", id.replace('_', "-")))
            .collect();
        if !training.is_empty() {
            return Err(Error::msg(format!(
                "{}: an ensemble goes on member by member with its recorded settings; {} cannot change them (only \
                 --data, --valid, --test, --extra and --tensorboard can be given)",
                run.root.display(),
                training.join(", ")
            )));
        }
    }
    let settings = &mut config.train;
    let path = |p: &PathBuf| p.display().to_string();
    if let Some(data) = &args.data {
        settings.data = path(data);
    }
    // The files may have moved; the run's texts stay what they were.
    if args.valid.is_some() && settings.valid.is_none() {
        return Err(Error::msg(
            "--valid: the run held out --valid-share of --data for validation; a resumed run cannot take a file instead",
        ));
    }
    if !args.extra.is_empty() && args.extra.len() != settings.extra.len() {
        return Err(Error::msg(format!(
            "--extra: the run trained with {} extra file(s); give the same number where they are now",
            settings.extra.len()
        )));
    }
    if let Some(valid) = &args.valid {
        settings.valid = Some(path(valid));
    }
    if let Some(test) = &args.test {
        settings.test = Some(path(test));
    }
    if !args.extra.is_empty() {
        settings.extra = args.extra.iter().map(path).collect();
    }
    let given = given_flags();
    let given = |id: &str| given.iter().any(|g| g == id);
    // --epochs and --lr have defaults: only the ones on the command line change the run.
    let (lr, epochs) = (given("lr").then_some(args.lr), given("epochs").then_some(args.epochs));
    settings.engine.override_with(&args.schedule.overrides(lr, epochs));
    if settings.engine.epochs == 0 {
        return Err(Error::msg("--epochs must be at least 1"));
    }
    let (sources, plan, mut seeds) = recorded_texts(&run, &config)?;
    let before = ClassifyRunConfig::read(&run)?;
    if before != config {
        config.write(&run)?;
    }
    if ensemble {
        // The members kept so far are read back; the rest train as the uninterrupted run would.
        let mut several = Several::new(0, &args.tensorboard);
        let trained = train_final(&config, &plan, &sources, &mut seeds, &run, Vec::new(), &mut several)?;
        return finish(&run, &config, &plan, &sources, trained);
    }
    train_single(&run, &config, &plan, &sources, &mut seeds, Some(lr), &args.tensorboard)
}

/// One model through `cli::fit`: a new state, or (`resume`: `Some(--lr)`) the checkpoint's;
/// `--tensorboard` logs it.
fn train_single(
    run: &RunDir,
    config: &ClassifyRunConfig,
    plan: &Plan,
    sources: &Sources,
    seeds: &mut Rng,
    resume: Option<Option<f64>>,
    tensorboard: &TensorboardFlags,
) -> Result<()> {
    let settings = &config.train;
    let (train_set, valid_set) = (plan.fit.encode(&plan.vocab), plan.valid.encode(&plan.vocab));
    let holdout = holdout(plan, settings, &train_set, &valid_set);
    let rows = sources.vectors.as_ref().map(|v| v.rows_of(&plan.vocab));
    let start = Start { config: &config.model, encoder: sources.encoder.as_ref(), vectors: rows.as_ref() };
    let mut member = Member::new(&holdout, start, seeds)?;
    let engine = settings.engine.clone();
    let optimizer = Optimizer::new(settings.optimizer, settings.engine.lr, settings.momentum);
    let outcome = {
        let mut task = member.task(settings);
        let mut state = match resume {
            Some(lr) => resume_state(run, &mut task, optimizer, &engine, lr)?,
            None => TrainState::new(optimizer),
        };
        let describe = Describe { command: "recur classify train", epoch_line: &epoch_line, tensorboard };
        fit(&engine, run, &mut task, &mut state, &describe)?
    };
    let Outcome::Finished { best, .. } = outcome else { unreachable!("fit returns only finished runs") };
    let best_epoch = best.expect("a classifier's run validates every epoch").0;
    let own = match holdout {
        Holdout::PerMember { .. } => vec![member.own_valid(settings)],
        Holdout::Shared { .. } => Vec::new(),
    };
    let mut models = vec![member.model];
    let valid = holdout_figures(&mut models, &holdout, &own);
    let trained = Trained { models, best_epochs: vec![best_epoch], valid };
    finish(run, config, plan, sources, trained)
}

/// What a run prints before its first epoch: the texts, the model, the recipe.
fn describe_training(config: &ClassifyRunConfig, plan: &Plan, sources: &Sources) {
    let s = &config.train;
    if let Some(encoder) = &sources.encoder {
        println!(
            "embedding and {} x {} layers from the language model in {}: {:.1}% of the training texts' words are in \
             its vocabulary (the others read as <unk>)",
            encoder.num_layers,
            encoder.cell.name().to_uppercase(),
            encoder.run.display(),
            100.0 * encoder.coverage(&plan.fit.words)
        );
    }
    if let Some(vectors) = &sources.vectors {
        let rows = vectors.rows_of(&plan.vocab).ids.len();
        println!(
            "embedding from {}: {:.1}% of the training texts' words have one; {rows} of the vocabulary's {} words \
             start from theirs",
            vectors.describe(),
            100.0 * vectors.coverage(&plan.fit.words),
            plan.vocab.len()
        );
    }
    if plan.per_member {
        println!(
            "training on {} texts, each member holding out its own {} for validation (vocabulary {} words, <unk> \
             included)",
            plan.fit.len(),
            s.valid_split,
            plan.vocab.len()
        );
    } else {
        println!(
            "training on {} texts, validating on {} (vocabulary {} words, <unk> included)",
            plan.fit.len(),
            plan.valid.len(),
            plan.vocab.len()
        );
    }
    crate::cli::summary::print_table(
        &Classifier::<f32>::new(config.model.clone(), &mut Rng::new(0)).summary(),
        config.members,
    );
    println!(
        "batch {}, {:?} lr {}{}{}, up to {} epochs, early stopping after {} without a lower validation loss",
        s.batch_size,
        s.optimizer,
        recur::train::engine::short(s.engine.lr),
        s.engine.clip.map(|c| format!(", clip {c}")).unwrap_or_default(),
        if s.engine.weight_decay > 0.0 {
            format!(", weight decay {}", s.engine.weight_decay)
        } else {
            String::new()
        },
        s.engine.epochs,
        s.engine.patience,
    );
}

/// The end of every run: the validation figures, the test figures, `result.json`.
fn finish(
    run: &RunDir,
    config: &ClassifyRunConfig,
    plan: &Plan,
    sources: &Sources,
    mut trained: Trained,
) -> Result<()> {
    let (valid, best_epochs) = (&trained.valid, &trained.best_epochs);
    println!(
        "best epoch{} {best_epochs:?}: valid loss {:.4}, accuracy {:.4}{}; {} saved",
        if best_epochs.len() > 1 { "s (one per member)" } else { "" },
        valid.loss,
        valid.accuracy,
        if plan.per_member { " (the mean of each member's own validation texts)" } else { "" },
        if best_epochs.len() > 1 { "their weights are" } else { "its weights are" }
    );
    print_confusion("validation", &config.classes, &valid.confusion);
    let test = sources.test.as_ref().map(|test| {
        let e = evaluate_members(&mut trained.models, &test.encode(&plan.vocab));
        println!("test: loss {:.4}, accuracy {:.4} ({} texts)", e.loss, e.accuracy, test.len());
        print_confusion("test", &config.classes, &e.confusion);
        e
    });
    let baselines = split_baselines(plan, sources, config.classes.len(), valid.accuracy, test.as_ref());
    write_result(run, &trained.best_epochs, &trained.valid, test.as_ref(), &baselines)?;
    println!(
        "wrote {} (config, vocab, model, metrics, loss plot, result{}{})",
        run.root.display(),
        if config.train.folds >= 2 { ", cv" } else { "" },
        if config.members == 1 && config.train.folds < 2 { ", checkpoint" } else { "" }
    );
    Ok(())
}

/// `| epoch   3 | train loss 0.5123 accuracy 0.781 | valid loss 0.5560 accuracy 0.733 | 0.4 s | 2250 texts/s`
pub(super) fn epoch_line(e: &EpochStats) -> String {
    let fig = |k: &str| e.figure(k).unwrap_or(f64::NAN);
    format!(
        "| epoch {:3} | train loss {:.4} accuracy {:.3} | valid loss {:.4} accuracy {:.3} | {:.1} s | {:.0} texts/s{}",
        e.epoch,
        e.train_loss,
        fig("train_accuracy"),
        fig("valid_loss"),
        fig("valid_accuracy"),
        e.seconds,
        fig("texts_per_s"),
        if e.skipped > 0 { format!(" | {} batches skipped", e.skipped) } else { String::new() },
    )
}

/// A cross-validation fold's lines.
pub(super) fn print_fold(f: &FoldResult, folds: usize) {
    let seconds = f.seconds;
    println!(
        "fold {:2}/{folds}: {} train, {} valid, {} test texts, vocabulary {}; best epoch {:?}: valid loss \
         {:.4}, accuracy {:.3}; test loss {:.4}, accuracy {:.3} ({seconds:.1} s)",
        f.fold,
        f.train_texts,
        f.valid_texts,
        f.test_texts,
        f.vocab_size,
        f.best_epochs,
        f.valid_loss,
        f.valid_accuracy,
        f.test_loss,
        f.test_accuracy,
    );
    println!("         {}", compared(f.test_accuracy, Some(seconds), &f.baselines));
}

/// `network 0.738 (12.1 s) | naive Bayes 0.822 (0.003 s) | logistic (tf-idf) 0.815 (0.08 s, loss 0.693 -> 0.452)`
fn compared(network: f64, seconds: Option<f64>, b: &BaselineScores) -> String {
    let (nb, lr) = (&b.naive_bayes, &b.logistic_tfidf);
    format!(
        "network {network:.3}{} | naive Bayes {:.3} ({:.3} s) | logistic (tf-idf) {:.3} ({:.3} s, loss {:.3} -> {:.3} in {} steps)",
        seconds.map(|s| format!(" ({s:.1} s)")).unwrap_or_default(),
        nb.accuracy,
        nb.seconds,
        lr.score.accuracy,
        lr.score.seconds,
        lr.convergence.loss_start,
        lr.convergence.loss_end,
        lr.convergence.iterations,
    )
}

/// The cross-validation's table: each model's mean, spread and time a fold.
fn print_spreads(cv: &CvResult) {
    let network = Spread {
        mean_accuracy: cv.mean_accuracy,
        std_accuracy: cv.std_accuracy,
        min_accuracy: cv.min_accuracy,
        max_accuracy: cv.max_accuracy,
        mean_seconds: cv.mean_seconds,
    };
    println!("{:<18} {:>17} {:>6} {:>6} {:>10}", "same folds", "accuracy +- std", "min", "max", "s a fold");
    for (name, s) in [
        ("network", &network),
        ("naive Bayes", &cv.baselines.naive_bayes),
        ("logistic (tf-idf)", &cv.baselines.logistic_tfidf),
    ] {
        println!(
            "{name:<18} {:>8.4} +- {:.4} {:>6.3} {:>6.3} {:>10.3}",
            s.mean_accuracy, s.std_accuracy, s.min_accuracy, s.max_accuracy, s.mean_seconds
        );
    }
}

/// The baselines fitted on the saved model's training texts, on its validation texts and the
/// `--test` texts, printed beside the network's accuracy there.
fn split_baselines(
    plan: &Plan,
    sources: &Sources,
    classes: usize,
    valid_accuracy: f64,
    test: Option<&recur::tasks::classify::Evaluation>,
) -> SplitBaselines {
    let valid = (!plan.valid.is_empty()).then(|| fit_and_test(&plan.fit, &plan.valid, classes));
    let test_scores = sources.test.as_ref().map(|t| fit_and_test(&plan.fit, t, classes));
    match &valid {
        Some(v) => println!("validation: {}", compared(valid_accuracy, None, v)),
        None => println!(
            "(no shared validation texts with --split-per-member: the baselines are compared on --test only)"
        ),
    }
    if let (Some(t), Some(e)) = (&test_scores, test) {
        println!("test: {}", compared(e.accuracy, None, t));
    }
    SplitBaselines { valid, test: test_scores }
}
