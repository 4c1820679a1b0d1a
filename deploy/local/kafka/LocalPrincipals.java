// Creates the local broker's SCRAM users and replaces their ACLs, in one Admin API session.
//
// Run by deploy/local/complaints_stack/kafka_users.py with Java's single-file source launcher
// (`java -cp '.local/kafka/libs/*' LocalPrincipals.java BOOTSTRAP`), on the open listener, whose
// principal is a super user. The plan comes on stdin, one item a line, so no password is ever on
// a command line:
//
//   user NAME PASSWORD
//   acl PRINCIPAL RESOURCE_TYPE PATTERN_TYPE RESOURCE_NAME OPERATION
//
// Every ACL of a principal named in an `acl` line is deleted first, so the table is the whole
// truth (an ACL removed from the table is removed from the broker).

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

public class LocalPrincipals {
    private static final int ITERATIONS = 4096;

    public static void main(String[] args) throws Exception {
        // One list per mechanism: a request may alter each user only once.
        List<UserScramCredentialAlteration> sha256 = new ArrayList<>();
        List<UserScramCredentialAlteration> sha512 = new ArrayList<>();
        List<AclBinding> acls = new ArrayList<>();
        Set<String> principals = new LinkedHashSet<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] w = line.trim().split("\\s+");
            if (w.length == 3 && w[0].equals("user")) {
                sha256.add(new UserScramCredentialUpsertion(
                        w[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, ITERATIONS), w[2]));
                sha512.add(new UserScramCredentialUpsertion(
                        w[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS), w[2]));
            } else if (w.length == 6 && w[0].equals("acl")) {
                principals.add(w[1]);
                acls.add(new AclBinding(
                        new ResourcePattern(ResourceType.fromString(w[2]), w[4], PatternType.fromString(w[3])),
                        new AccessControlEntry(w[1], "*", AclOperation.fromString(w[5]), AclPermissionType.ALLOW)));
            } else if (!line.isBlank()) {
                throw new IllegalArgumentException("not a plan line: " + w[0] + " … (" + w.length + " words)");
            }
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        try (Admin admin = Admin.create(props)) {
            for (List<UserScramCredentialAlteration> users : List.of(sha256, sha512)) {
                if (!users.isEmpty()) {
                    admin.alterUserScramCredentials(users).all().get();
                }
            }
            List<AclBindingFilter> old = new ArrayList<>();
            for (String principal : principals) {
                old.add(new AclBindingFilter(ResourcePatternFilter.ANY,
                        new AccessControlEntryFilter(principal, null, AclOperation.ANY, AclPermissionType.ANY)));
            }
            if (!old.isEmpty()) {
                admin.deleteAcls(old).all().get();
            }
            if (!acls.isEmpty()) {
                admin.createAcls(acls).all().get();
            }
        }
        System.out.println("users " + sha256.size() + ", acls " + acls.size());
    }
}
