namespace Serverless.Core.Training;

/// <summary>Training defaults, bound from <c>Pipeline:Training</c>.</summary>
public sealed class TrainingOptions
{
    public const string Section = "Pipeline:Training";

    /// <summary>Seed of the one <c>MLContext</c> and of the split when the spec names none.</summary>
    public int Seed { get; set; } = 42;

    public double ValidationFraction { get; set; } = 0.15;
    public double TestFraction { get; set; } = 0.15;

    /// <summary>Whether a host runs the training code paths once at start-up (<see cref="TrainingWarmup"/>), so its first run is not slowed by compilation.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>Where activities keep downloaded splits and models while they work.</summary>
    public string? ScratchDirectory { get; set; }
}
