namespace Serverless.Core.Training;

/// <summary>
/// A candidate whose boosted trees found no split in the features: no feature separates the label on the data it was fit
/// on. LightGBM then keeps one tree of one leaf, and where that leaf's value is 0 (a binary label of exactly as many rows
/// of each class) ML.NET fails building its predictor with an argument error ("Value cannot be null. (Parameter 'items')",
/// dotnet/machinelearning#5022) that tells the user nothing; this says it in their words.
/// </summary>
public sealed class NoSplitException(string trainer, Exception inner)
    : Exception($"{trainer} found no split in the features: no feature separates the label on this data, so it could not grow a tree.", inner)
{
    /// <summary>
    /// Whether <paramref name="e"/> is ML.NET's failure to build a LightGBM predictor of no tree: the null list of trees
    /// handed to its tree ensemble (<c>RegressionTreeBase</c>) from LightGBM's <c>CreatePredictor</c>. ML.NET gives the
    /// case no type or code of its own, so it is known by the parameter and the frames it was thrown through.
    /// </summary>
    internal static bool Explains(Exception e) =>
        e is ArgumentNullException { ParamName: "items" }
        && new System.Diagnostics.StackTrace(e).GetFrames().Any(f => f.GetMethod()?.DeclaringType?.Name.StartsWith("LightGbm", StringComparison.Ordinal) == true);
}
