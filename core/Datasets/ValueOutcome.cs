namespace Serverless.Core.Datasets;

/// <summary>What a value added to a column was, as far as the row it belongs to is concerned.</summary>
internal enum ValueOutcome { Present, Missing, FirstNonFinite }
