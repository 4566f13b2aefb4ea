namespace Serverless.Core.Training;

/// <summary>Training defaults, bound from <c>Pipeline:Training</c>.</summary>
public sealed class TrainingOptions
{
    public const string Section = "Pipeline:Training";

    /// <summary>Seed of the one <c>MLContext</c> and of the split when the spec names none.</summary>
    public int Seed { get; set; } = 42;

    public const double DefaultValidationFraction = 0.15;
    public const double DefaultTestFraction = 0.15;

    /// <summary>Share of rows the split puts in validation (the winner is chosen there).</summary>
    public double ValidationFraction { get; set; } = DefaultValidationFraction;

    /// <summary>Share of rows the split puts in test (gates and champion comparison); the rest is train.</summary>
    public double TestFraction { get; set; } = DefaultTestFraction;

    public const long DefaultCrossValidationMaxRows = 10_000;
    public const int DefaultCrossValidationFolds = 5;
    public const int MaxCrossValidationFolds = 20;

    /// <summary>
    /// Up to this many train and validation rows, candidates are compared by k-fold cross-validation on train and
    /// validation together rather than on the validation split alone (too few rows to choose well); 0 turns it off.
    /// Each candidate then trains <see cref="CrossValidationFolds"/> more times, so the limit bounds the extra time.
    /// </summary>
    public long CrossValidationMaxRows { get; set; } = DefaultCrossValidationMaxRows;

    /// <summary>Folds of the cross-validation (2 to <see cref="MaxCrossValidationFolds"/>).</summary>
    public int CrossValidationFolds { get; set; } = DefaultCrossValidationFolds;

    public const double DefaultSimplerWithin = 1;

    /// <summary>The most <see cref="SimplerWithin"/> may be, in the host's settings or a model's spec.</summary>
    public const double MaxSimplerWithin = 3;

    /// <summary>Whether a <see cref="SimplerWithin"/> is a number of standard errors from 0 to <see cref="MaxSimplerWithin"/>.</summary>
    public static bool IsSimplerWithin(double within) => within is >= 0 and <= MaxSimplerWithin;

    /// <summary>
    /// A candidate that costs less to score a row wins over the best when its shortfall is at most this many standard
    /// errors of the paired difference between them (<see cref="CandidateChoice"/>); 0: the best always wins. A model's
    /// spec may set its own (<see cref="Specs.ModelSpec.SimplerWithin"/>).
    /// </summary>
    public double SimplerWithin { get; set; } = DefaultSimplerWithin;

    /// <summary>
    /// Checks the fractions (each in (0, 1), and together under 1 so that train keeps rows) and the cross-validation
    /// settings (folds 2 to <see cref="MaxCrossValidationFolds"/>, a row limit not negative) and <see cref="SimplerWithin"/> (0 to 3); the message names the setting.
    /// </summary>
    public void Validate()
    {
        if (ValidationFraction is <= 0 or >= 1 || TestFraction is <= 0 or >= 1 || ValidationFraction + TestFraction >= 1)
        {
            throw new InvalidOperationException(
                $"{Section}:ValidationFraction ({ValidationFraction}) and TestFraction ({TestFraction}) must each be between 0 and 1, and add up to less than 1.");
        }
        if (CrossValidationFolds is < 2 or > MaxCrossValidationFolds)
        {
            throw new InvalidOperationException(
                $"{Section}:CrossValidationFolds ({CrossValidationFolds}) must be between 2 and {MaxCrossValidationFolds}; set {Section}:CrossValidationMaxRows to 0 to compare candidates on the validation split only.");
        }
        if (!IsSimplerWithin(SimplerWithin))
        {
            throw new InvalidOperationException(
                $"{Section}:SimplerWithin ({SimplerWithin}) must be between 0 (the best candidate always wins) and {MaxSimplerWithin} standard errors.");
        }
        if (CrossValidationMaxRows < 0)
        {
            throw new InvalidOperationException(
                $"{Section}:CrossValidationMaxRows ({CrossValidationMaxRows}) must be 0 (off) or more.");
        }
    }

    /// <summary>
    /// The folds candidates are compared by for a split of this many train and validation rows: 0 (the validation split)
    /// above the limit, and for a time-ordered split, whose validation rows come after its train rows: shuffled folds
    /// would choose a model on rows older than some it was fit on, which a time-ordered split exists to rule out.
    /// </summary>
    public static int FoldsFor(long trainAndValidationRows, int folds, long maxRows, bool timeOrdered = false) =>
        !timeOrdered && folds >= 2 && trainAndValidationRows <= maxRows ? folds : 0;

    /// <summary>Whether a host runs the training code paths once at start-up (<see cref="TrainingWarmup"/>), so its first run is not slowed by compilation.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>Where activities keep downloaded splits and models while they work.</summary>
    public string? ScratchDirectory { get; set; }
}
