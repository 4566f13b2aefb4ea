using Serverless.Cli;

// mlops: upload data (and follow it to a served model), list and show models, promote, roll back, approve, reject, and
// tail the audit log. `mlops --help` and `mlops <command> --help` describe every command and option.
return await MlopsApp.RunAsync(args);
