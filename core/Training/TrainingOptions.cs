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

    /// <summary>Checks the fractions: each in (0, 1), and together under 1 so that train keeps rows.</summary>
    public void Validate()
    {
        if (ValidationFraction is <= 0 or >= 1 || TestFraction is <= 0 or >= 1 || ValidationFraction + TestFraction >= 1)
        {
            throw new InvalidOperationException(
                $"{Section}:ValidationFraction ({ValidationFraction}) and TestFraction ({TestFraction}) must each be between 0 and 1, and add up to less than 1.");
        }
    }

    /// <summary>Whether a host runs the training code paths once at start-up (<see cref="TrainingWarmup"/>), so its first run is not slowed by compilation.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>Where activities keep downloaded splits and models while they work.</summary>
    public string? ScratchDirectory { get; set; }
}
