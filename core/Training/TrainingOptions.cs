namespace Serverless.Core.Training;

/// <summary>Training defaults, bound from <c>Pipeline:Training</c>.</summary>
public sealed class TrainingOptions
{
    public const string Section = "Pipeline:Training";

    /// <summary>Seed of the one <c>MLContext</c> and of the split when the spec names none.</summary>
    public int Seed { get; set; } = 42;

    public double ValidationFraction { get; set; } = 0.15;
    public double TestFraction { get; set; } = 0.15;

    /// <summary>Where activities keep downloaded splits and models while they work.</summary>
    public string? ScratchDirectory { get; set; }
}
