using System.Net.Sockets;
using Serverless.LocalHost;

var app = LocalHostApp.Create(args);
try
{
    await app.StartAsync();
}
catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"The local host cannot listen on {string.Join(", ", app.Urls)}: the port is taken. Stop what uses it, or pass --urls http://127.0.0.1:<port>.");
    return 2;
}
app.Logger.LogInformation("Local host listening on {Urls}", string.Join(", ", app.Urls));
await app.WaitForShutdownAsync();
return 0;
