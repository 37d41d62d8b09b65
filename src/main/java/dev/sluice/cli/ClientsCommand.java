package dev.sluice.cli;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import dev.sluice.auth.ClientKeys;
import dev.sluice.auth.PemFiles;
import dev.sluice.auth.Scope;
import dev.sluice.store.ClientRow;
import dev.sluice.store.ClientTable;
import dev.sluice.store.DataDirRefused;
import dev.sluice.store.Database;
import java.io.IOException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice clients add|list|remove}: the SMART Backend Services clients that may ask an
 * {@code --auth smart} server for tokens, kept in its database (changes apply at once, whether
 * or not a server runs).
 */
@Command(name = "clients", mixinStandardHelpOptions = true,
    description = "Register, list and remove the SMART Backend Services clients of --auth smart.",
    subcommands = {ClientsCommand.Add.class, ClientsCommand.ListClients.class, ClientsCommand.Remove.class})
final class ClientsCommand implements Runnable {
  @Spec
  CommandSpec self;

  /** Without a subcommand: what there is to do. */
  @Override
  public void run() {
    self.commandLine().usage(self.commandLine().getErr());
  }

  /** What every subcommand does around its work: open the database, report errors in words, exit 0, 1 or 2. */
  abstract static class Tool implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DatabaseOptions database;

    abstract int run(ClientTable clients, PrintWriter out) throws SQLException;

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      try (Database db = database.openForTool()) {
        return run(new ClientTable(db.dataSource()), spec.commandLine().getOut());
      } catch (IllegalArgumentException | DataDirRefused e) {
        err.println("sluice " + spec.qualifiedName().replace("sluice ", "") + ": " + e.getMessage());
        return 2;
      } catch (SQLException e) {
        err.println("sluice " + spec.qualifiedName().replace("sluice ", "") + ": the database failed: " + e.getMessage());
        return 1;
      }
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true,
      description = "Register a client (or replace the keys and scopes of one registered before).")
  static final class Add extends Tool {
    @Option(names = "--id", required = true, description = "The client id: iss and sub of its assertions.")
    String id;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Keys keys;

    static final class Keys {
      @Option(names = "--jwks-url", description = "Where the client publishes its public keys (https; http only"
          + " on localhost).")
      String jwksUrl;

      @Option(names = "--jwks-file", description = "A JWK Set (JSON) of the client's public keys.")
      Path jwksFile;

      @Option(names = "--public-key", description = "The client's public key as PEM (RSA or EC P-384); its kid is"
          + " the key's RFC 7638 thumbprint, printed.")
      Path publicKey;
    }

    @Option(names = "--scope", required = true,
        description = "The scopes it may be granted, space-separated: SMART v1 (system/*.read) or v2"
            + " (system/Observation.rs, system/Observation.rs?category=laboratory).")
    String scope;

    @Override
    int run(ClientTable clients, PrintWriter out) throws SQLException {
      if (id.isBlank() || id.length() > 255) {
        throw new IllegalArgumentException("--id must be 1 to 255 characters");
      }
      String scopes = checkScopes(scope);
      ClientRow row;
      if (keys.jwksUrl != null) {
        if (!ClientKeys.acceptableJwksUrl(keys.jwksUrl)) {
          throw new IllegalArgumentException("--jwks-url must be an https URL (http only on localhost), got "
              + keys.jwksUrl);
        }
        row = new ClientRow(id, keys.jwksUrl, null, scopes, null);
      } else {
        JWKSet set = keys.jwksFile != null ? readJwks(keys.jwksFile) : readPem(keys.publicKey);
        row = new ClientRow(id, null, set.toString(true), scopes, null);
        for (JWK k : set.getKeys()) {
          out.println("key " + k.getKeyID() + " (" + k.getKeyType() + ")");
        }
      }
      boolean added = clients.put(row);
      out.println((added ? "Registered" : "Updated") + " client " + id + " with scopes: " + scopes);
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered clients.")
  static final class ListClients extends Tool {
    @Override
    int run(ClientTable clients, PrintWriter out) throws SQLException {
      List<ClientRow> all = clients.all();
      if (all.isEmpty()) {
        out.println("No clients registered (sluice clients add)");
      }
      for (ClientRow c : all) {
        out.println(c.id() + "\t" + (c.jwksUrl() != null ? c.jwksUrl() : "inline keys") + "\t" + c.scope());
      }
      return 0;
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = "Remove a client: it gets no new tokens (those issued stay valid until they expire).")
  static final class Remove extends Tool {
    @Option(names = "--id", required = true, description = "The client id.")
    String id;

    @Override
    int run(ClientTable clients, PrintWriter out) throws SQLException {
      if (!clients.remove(id)) {
        spec.commandLine().getErr().println("sluice clients remove: no client " + id + " is registered");
        return 1;
      }
      out.println("Removed client " + id);
      return 0;
    }
  }

  /** Every scope must be one this server understands; a typo would otherwise grant nothing, silently. */
  static String checkScopes(String scope) {
    List<String> wrong = new ArrayList<>();
    List<String> scopes = List.of(scope.trim().split("\\s+"));
    for (String s : scopes) {
      if (Scope.parse(s).filter(p -> p.context().equals("system")).isEmpty()) {
        wrong.add(s);
      }
    }
    if (scope.isBlank() || !wrong.isEmpty()) {
      throw new IllegalArgumentException("--scope takes SMART system scopes such as system/*.read or"
          + " system/Observation.rs; not understood: " + (scope.isBlank() ? "(none)" : String.join(" ", wrong)));
    }
    return String.join(" ", scopes);
  }

  private static JWKSet readJwks(Path file) {
    try {
      return publicOnly(JWKSet.parse(Files.readString(file, StandardCharsets.UTF_8)), file);
    } catch (IOException e) {
      throw new IllegalArgumentException("--jwks-file " + file + " cannot be read: " + e.getMessage());
    } catch (ParseException e) {
      throw new IllegalArgumentException("--jwks-file " + file + " is not a JWK Set: " + e.getMessage());
    }
  }

  /** A PEM {@code PUBLIC KEY} (SubjectPublicKeyInfo, what {@code openssl pkey -pubout} writes), RSA or EC. */
  private static JWKSet readPem(Path file) {
    PublicKey publicKey;
    try {
      publicKey = PemFiles.publicKey(file);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--public-key " + e.getMessage());
    }
    JWK key;
    try {
      key = switch (publicKey) {
        case RSAPublicKey rsa -> new RSAKey.Builder(rsa).keyIDFromThumbprint().build();
        case ECPublicKey ec -> new ECKey.Builder(Curve.forECParameterSpec(ec.getParams()), ec).keyIDFromThumbprint()
            .build();
        default -> throw new IllegalArgumentException("--public-key " + file + " is neither an RSA nor an EC key");
      };
    } catch (JOSEException | RuntimeException e) {
      throw new IllegalArgumentException("--public-key " + file + " is not a usable public key: " + e.getMessage());
    }
    return publicOnly(new JWKSet(key), file);
  }

  /** Only public RSA and P-384 keys with a kid: a private key here is a leak waiting to happen. */
  private static JWKSet publicOnly(JWKSet set, Path file) {
    if (set.getKeys().isEmpty()) {
      throw new IllegalArgumentException(file + " holds no key");
    }
    for (JWK k : set.getKeys()) {
      if (k.isPrivate()) {
        throw new IllegalArgumentException(file + " holds a private key (" + k.getKeyID() + "); register only the"
            + " public part, and keep the private key with the client");
      }
      if (k.getKeyID() == null) {
        throw new IllegalArgumentException(file + " holds a key without kid; assertions name their key by kid");
      }
      boolean usable = k instanceof RSAKey || (k instanceof ECKey ec && ec.getCurve().equals(Curve.P_384));
      if (!usable) {
        throw new IllegalArgumentException("key " + k.getKeyID() + " is neither RSA nor EC P-384 (RS384 or ES384)");
      }
    }
    return set;
  }
}
